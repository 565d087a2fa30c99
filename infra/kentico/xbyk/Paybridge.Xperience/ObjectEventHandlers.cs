using System;
using System.Threading;
using System.Threading.Tasks;

using CMS.Commerce;
using CMS.DataEngine;

namespace Paybridge.Xperience;

// XbyK's object event handlers with async support and dependency injection, as documented in
// https://docs.kentico.com/documentation/developers-and-admins/customization/handle-global-events/handle-object-events
// (CMS.DataEngine): IInfoObjectEventHandler<InfoObjectAfterInsertEvent<T>> / <InfoObjectAfterUpdateEvent<T>>,
// each implementing both Handle (raised by Set) and HandleAsync (raised by SetAsync), the object in
// infoObjectEvent.InfoObject; registered in the app's service collection with
// services.AddInfoObjectEventHandler<TEvent, THandler>() (AddPaybridge). "After" events run once
// the object is saved; bulk operations raise none (README, Limits).
// They only note the change (ChangeQueue.Notify: a dictionary write under a lock), so a save never
// waits on paybridge; the hosted sender re-reads the object and builds its event later.

/// <summary>Notes inserted and updated orders.</summary>
public sealed class OrderEventHandler :
    IInfoObjectEventHandler<InfoObjectAfterInsertEvent<OrderInfo>>,
    IInfoObjectEventHandler<InfoObjectAfterUpdateEvent<OrderInfo>>
{
    private readonly ChangeQueue changes;

    public OrderEventHandler(ChangeQueue changes) => this.changes = changes;

    public void Handle(InfoObjectAfterInsertEvent<OrderInfo> infoObjectEvent) =>
        changes.Notify(ObjectKind.Order, infoObjectEvent.InfoObject.OrderID, inserted: true, committed: false, DateTime.UtcNow);

    public Task HandleAsync(InfoObjectAfterInsertEvent<OrderInfo> infoObjectEvent, CancellationToken cancellationToken)
    {
        Handle(infoObjectEvent);
        return Task.CompletedTask;
    }

    public void Handle(InfoObjectAfterUpdateEvent<OrderInfo> infoObjectEvent) =>
        changes.Notify(ObjectKind.Order, infoObjectEvent.InfoObject.OrderID, inserted: false, committed: false, DateTime.UtcNow);

    public Task HandleAsync(InfoObjectAfterUpdateEvent<OrderInfo> infoObjectEvent, CancellationToken cancellationToken)
    {
        Handle(infoObjectEvent);
        return Task.CompletedTask;
    }
}

/// <summary>Notes inserted and updated customers.</summary>
public sealed class CustomerEventHandler :
    IInfoObjectEventHandler<InfoObjectAfterInsertEvent<CustomerInfo>>,
    IInfoObjectEventHandler<InfoObjectAfterUpdateEvent<CustomerInfo>>
{
    private readonly ChangeQueue changes;

    public CustomerEventHandler(ChangeQueue changes) => this.changes = changes;

    public void Handle(InfoObjectAfterInsertEvent<CustomerInfo> infoObjectEvent) =>
        changes.Notify(ObjectKind.Customer, infoObjectEvent.InfoObject.CustomerID, inserted: true, committed: false, DateTime.UtcNow);

    public Task HandleAsync(InfoObjectAfterInsertEvent<CustomerInfo> infoObjectEvent, CancellationToken cancellationToken)
    {
        Handle(infoObjectEvent);
        return Task.CompletedTask;
    }

    public void Handle(InfoObjectAfterUpdateEvent<CustomerInfo> infoObjectEvent) =>
        changes.Notify(ObjectKind.Customer, infoObjectEvent.InfoObject.CustomerID, inserted: false, committed: false, DateTime.UtcNow);

    public Task HandleAsync(InfoObjectAfterUpdateEvent<CustomerInfo> infoObjectEvent, CancellationToken cancellationToken)
    {
        Handle(infoObjectEvent);
        return Task.CompletedTask;
    }
}

/// <summary>
/// For the shop's checkout: call <see cref="OrderCompleted"/> once the new order, its items and
/// its addresses are saved (after the transaction commits), so its <c>ecommerce.order.created</c>
/// event goes out at once with all of them. Without the call, a new order is sent 30 s after its
/// insert (<see cref="ChangeQueue.InsertGrace"/>), which is also fine, only slower.
/// </summary>
public sealed class PaybridgeOrderEvents
{
    private readonly ChangeQueue changes;

    public PaybridgeOrderEvents(ChangeQueue changes) => this.changes = changes;

    public void OrderCompleted(int orderId) =>
        changes.Notify(ObjectKind.Order, orderId, inserted: true, committed: true, DateTime.UtcNow);
}
