# Multi-stage build: the SDK image builds, a small ASP.NET runtime image runs as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Broker.sln ./
COPY src/ src/
RUN dotnet publish src/Kontext.Broker/Kontext.Broker.csproj -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Smart-data-models schemas, their @contexts and the device mappings used by the vendor adapters.
COPY schemas/ ./schemas/
COPY mappings/ ./mappings/
RUN mkdir -p /data && chown -R app:app /data
USER app
# Outbound calls (remote @contexts, notifications) may not reach loopback or private addresses from a container unless
# Kontext__Outbound__Allow__0=<cidr or host> names them (docs/security-outbound.md).
ENV ASPNETCORE_URLS=http://0.0.0.0:1026 \
    Kontext__Storage__DataDirectory=/data \
    Kontext__Outbound__Profile=strict
VOLUME ["/data"]
EXPOSE 1026
# Liveness: GET /health answers {"status":"ok"}.
ENTRYPOINT ["dotnet", "Kontext.Broker.dll"]
