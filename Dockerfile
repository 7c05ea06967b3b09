# Multi-stage build: the SDK image builds, a small ASP.NET runtime image runs as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Broker.sln ./
COPY src/ src/
# schemas/ and mappings/ are Content items of the broker project: publish copies them beside it.
COPY schemas/ schemas/
COPY mappings/ mappings/
RUN dotnet publish src/Kontext.Broker/Kontext.Broker.csproj -c Release -o /app --no-self-contained \
 && dotnet publish src/Kontext.Cli/Kontext.Cli.csproj -c Release -o /opt/kontext-cli --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The kontext tool: health probe below, and `docker exec <container> kontext backup /data/backups/today --data /data`.
COPY --from=build /opt/kontext-cli /opt/kontext-cli
RUN printf '#!/bin/sh\nexec dotnet /opt/kontext-cli/kontext.dll "$@"\n' > /usr/local/bin/kontext \
 && chmod 755 /usr/local/bin/kontext \
 && mkdir -p /data && chown -R app:app /data
USER app
# Outbound calls (remote @contexts, notifications) may not reach loopback or private addresses from a container unless
# Kontext__Outbound__Allow__0=<cidr or host> names them (docs/security-outbound.md). JSON logs for log collectors.
ENV ASPNETCORE_URLS=http://0.0.0.0:1026 \
    Kontext__Storage__DataDirectory=/data \
    Kontext__Outbound__Profile=strict \
    Logging__Console__FormatterName=json \
    KONTEXT_URL=http://127.0.0.1:1026 \
    KONTEXT_DATA=/data \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
VOLUME ["/data"]
EXPOSE 1026
# Liveness (the process answers); orchestrators should probe /health/ready for traffic (docs/operations.md).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["kontext", "health", "--timeout", "5"]
ENTRYPOINT ["dotnet", "Kontext.Broker.dll"]
