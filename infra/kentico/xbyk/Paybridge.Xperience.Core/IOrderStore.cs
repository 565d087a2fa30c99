using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Paybridge.Xperience
{
    public enum PaybridgeLogLevel { Information, Warning, Error }

    /// <summary>Where the package's messages go: Kentico's event log (source <c>Paybridge</c>) in the app.</summary>
    public interface IPaybridgeLog
    {
        /// <summary>Must never throw, and is never given a secret.</summary>
        void Log(PaybridgeLogLevel level, string code, string message);
    }

    /// <summary>One write of the write-back: only what changes; null members stay as they are.</summary>
    public sealed class OrderUpdate
    {
        public int OrderID;
        /// <summary>The new <c>OrderOrderStatusID</c>, or null to leave the status alone.</summary>
        public int? NewStatusID;
        /// <summary>The new <c>PaybridgeData</c> text, or null to leave it alone.</summary>
        public string NewPaybridgeData;
    }

    /// <summary>
    /// What the routes need from XbyK's commerce data. The app implements it with
    /// <c>IInfoProvider&lt;OrderInfo&gt;</c> &amp; co. (Paybridge.Xperience/KenticoOrderStore.cs); the
    /// tests with an in-memory list. Kentico-free, so the whole request→answer logic of
    /// <see cref="PaybridgeEndpoints"/> is tested without Kentico.
    /// </summary>
    public interface IOrderStore : IPaybridgeLog
    {
        /// <summary>The shop's order statuses, in the admin's order.</summary>
        Task<IReadOnlyList<OrderStatusData>> GetStatusesAsync(CancellationToken cancellationToken);

        /// <summary>
        /// The order with this GUID, or null. With <paramref name="withDetails"/> its items,
        /// addresses and customer are loaded too (the GET route); without, only the order's own
        /// columns, <c>OrderStatusName</c> and <c>PaybridgeData</c> are needed (the write-back).
        /// </summary>
        Task<OrderData> FindOrderAsync(Guid orderGuid, bool withDetails, CancellationToken cancellationToken);

        /// <summary>
        /// Up to <paramref name="limit"/> orders, with details, whose <c>OrderModifiedWhen</c> is at
        /// or after <paramref name="modifiedSinceUtc"/> and whose <c>OrderID</c> is greater than
        /// <paramref name="afterId"/>, by <c>OrderID</c> ascending.
        /// </summary>
        Task<IReadOnlyList<OrderData>> ListOrdersAsync(DateTime modifiedSinceUtc, int afterId, int limit, CancellationToken cancellationToken);

        /// <summary>Saves the order once with the given changes (through the provider, so Kentico's events and notifications run).</summary>
        Task UpdateOrderAsync(OrderUpdate update, CancellationToken cancellationToken);
    }
}
