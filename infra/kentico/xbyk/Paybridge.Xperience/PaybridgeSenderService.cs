using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

using Microsoft.Extensions.Hosting;

namespace Paybridge.Xperience;

/// <summary>
/// The background sender: once a second, builds due changes into the outbox and POSTs the outbox
/// to paybridge (<see cref="PaybridgeWorker"/>). On shutdown it builds what is pending into the
/// outbox without sending, so a restart or deploy loses nothing already saved.
/// </summary>
public sealed class PaybridgeSenderService : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly PaybridgeSettings settings;
    private readonly KenticoOrderStore store;
    private readonly PaybridgeWorker worker;

    public PaybridgeSenderService(PaybridgeSettings settings, ChangeQueue changes, KenticoOrderStore store, IHttpClientFactory httpClients)
    {
        this.settings = settings;
        this.store = store;
        var http = httpClients.CreateClient(PaybridgeServiceCollectionExtensions.HttpClientName);
        worker = new PaybridgeWorker(settings, changes, BuildAsync, http, store, () => DateTime.UtcNow);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        store.Log(PaybridgeLogLevel.Information, "STARTED", "Paybridge package " + PaybridgeEndpoints.PackageVersion + " started: " + settings);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await worker.RunOnceAsync(false, stoppingToken);
                await Task.Delay(Tick, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // An exception out of ExecuteAsync would end the sender for good, and with .NET's
                // default BackgroundServiceExceptionBehavior.StopHost stop the whole shop: log it
                // and try again on the next tick (nothing is lost: the outbox is on disk).
                store.Log(PaybridgeLogLevel.Error, "SENDER_FAILED", ex.ToString());
                try
                {
                    await Task.Delay(Tick, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Build what is pending into files; they are sent after the restart. Only once the loop
        // has ended: the worker is not thread-safe, and a shutdown that timed out leaves it running.
        if (ExecuteTask == null || ExecuteTask.IsCompleted)
        {
            try
            {
                await worker.RunOnceAsync(true, cancellationToken);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                // Shutting down anyway; the changes not built are found by paybridge's reconciliation.
                store.Log(PaybridgeLogLevel.Error, "SHUTDOWN_FLUSH_FAILED", ex.ToString());
            }
        }
    }

    private async Task<BuiltEvent> BuildAsync(DueChange change, CancellationToken cancellationToken)
    {
        var eventId = Guid.NewGuid();
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (change.Kind == ObjectKind.Order)
        {
            var order = await store.LoadOrderAsync(change.ObjectId, cancellationToken);
            if (order == null) return null;
            string type = change.Inserted ? EventPayloadBuilder.OrderCreated : EventPayloadBuilder.OrderUpdated;
            return new BuiltEvent
            {
                EventId = eventId,
                Type = type,
                Body = EventPayloadBuilder.BuildOrderEvent(order, type, eventId, created, settings.Site, settings.Currency),
            };
        }

        var customer = await store.LoadCustomerAsync(change.ObjectId, cancellationToken);
        if (customer == null) return null;
        string customerType = change.Inserted ? EventPayloadBuilder.CustomerCreated : EventPayloadBuilder.CustomerUpdated;
        return new BuiltEvent
        {
            EventId = eventId,
            Type = customerType,
            Body = EventPayloadBuilder.BuildCustomerEvent(customer, customerType, eventId, created, settings.Site),
        };
    }
}
