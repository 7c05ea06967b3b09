using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Kontext.Ngsi.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>
/// The broker's own storage, with a fault injected into chosen calls of its tenant stores: <see cref="Fault"/> sees each
/// call (the method and its arguments) and returns the exception to throw, or null to let the real store answer.
/// </summary>
public sealed class FaultyStorage(IEntityStorage inner) : IEntityStorage
{
    private readonly ConditionalWeakTable<ITenantStore, ITenantStore> _wrapped = new();

    public Func<MethodInfo, object?[], Exception?> Fault { get; set; } = (_, _) => null;

    /// <summary>The broker started over a <see cref="FaultyStorage"/> around the storage it configures itself.</summary>
    public static WebApplicationFactory<Program> Broker(BrokerFactory owner, out Func<FaultyStorage> storage)
    {
        FaultyStorage? created = null;
        storage = () => created ?? throw new InvalidOperationException("the broker has not started");
        return owner.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            var original = services.Last(d => d.ServiceType == typeof(IEntityStorage));
            services.AddSingleton<IEntityStorage>(sp => created = new FaultyStorage((IEntityStorage)original.ImplementationFactory!(sp)));
        }));
    }

    public async ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken) =>
        await inner.GetTenantAsync(tenant, create, cancellationToken) is { } store ? _wrapped.GetValue(store, Wrap) : null;

    private ITenantStore Wrap(ITenantStore store)
    {
        var proxy = DispatchProxy.Create<ITenantStore, FaultyTenantStore>();
        ((FaultyTenantStore)(object)proxy).Init(store, this);
        return proxy;
    }

    public Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken) => inner.ListTenantsAsync(cancellationToken);

    public event Action<string?>? Committed
    {
        add => inner.Committed += value;
        remove => inner.Committed -= value;
    }

    public IContextDocumentStore Contexts => inner.Contexts;

    public bool SharedByProcesses => inner.SharedByProcesses;

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public class FaultyTenantStore : DispatchProxy
    {
        private ITenantStore _inner = null!;
        private FaultyStorage _owner = null!;

        internal void Init(ITenantStore inner, FaultyStorage owner) => (_inner, _owner) = (inner, owner);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (_owner.Fault(targetMethod!, args ?? []) is { } fault)
            {
                // Async methods fail as their task does; others throw.
                if (targetMethod!.ReturnType == typeof(Task)) return Task.FromException(fault);
                if (targetMethod.ReturnType.IsGenericType && targetMethod.ReturnType.GetGenericTypeDefinition() == typeof(Task<>))
                    return typeof(Task).GetMethod(nameof(Task.FromException), 1, [typeof(Exception)])!
                        .MakeGenericMethod(targetMethod.ReturnType.GetGenericArguments()[0]).Invoke(null, [fault]);
                throw fault;
            }
            try { return targetMethod!.Invoke(_inner, args); }
            catch (TargetInvocationException ex) when (ex.InnerException is not null) { ExceptionDispatchInfo.Throw(ex.InnerException); throw; }
        }
    }
}
