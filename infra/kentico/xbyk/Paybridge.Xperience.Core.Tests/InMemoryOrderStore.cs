using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

using Paybridge.Xperience;

namespace Paybridge.Xperience.Tests
{
    /// <summary>An <see cref="IOrderStore"/> over lists, recording every update and log line.</summary>
    public sealed class InMemoryOrderStore : IOrderStore
    {
        public readonly List<OrderStatusData> Statuses = new List<OrderStatusData>
        {
            new OrderStatusData { OrderStatusID = 1, OrderStatusName = "New", OrderStatusDisplayName = "New order" },
            new OrderStatusData { OrderStatusID = 2, OrderStatusName = "PaymentFailed", OrderStatusDisplayName = "Payment failed" },
            new OrderStatusData { OrderStatusID = 3, OrderStatusName = "Paid", OrderStatusDisplayName = "Payment received" },
            new OrderStatusData { OrderStatusID = 4, OrderStatusName = "Canceled", OrderStatusDisplayName = "Cancelled" },
        };

        public readonly List<OrderData> Orders = new List<OrderData>();
        public readonly List<OrderUpdate> Updates = new List<OrderUpdate>();
        public readonly List<string> LogLines = new List<string>();
        public Exception FailWith;

        public Task<IReadOnlyList<OrderStatusData>> GetStatusesAsync(CancellationToken cancellationToken)
        {
            if (FailWith != null) throw FailWith;
            return Task.FromResult<IReadOnlyList<OrderStatusData>>(Statuses.ToList());
        }

        public Task<OrderData> FindOrderAsync(Guid orderGuid, bool withDetails, CancellationToken cancellationToken)
        {
            if (FailWith != null) throw FailWith;
            return Task.FromResult(Orders.FirstOrDefault(o => o.OrderGUID == orderGuid));
        }

        public Task<IReadOnlyList<OrderData>> ListOrdersAsync(DateTime modifiedSinceUtc, int afterId, int limit, CancellationToken cancellationToken)
        {
            IReadOnlyList<OrderData> page = Orders
                .Where(o => o.OrderModifiedWhen >= modifiedSinceUtc && o.OrderID > afterId)
                .OrderBy(o => o.OrderID)
                .Take(limit)
                .ToList();
            return Task.FromResult(page);
        }

        public Task UpdateOrderAsync(OrderUpdate update, CancellationToken cancellationToken)
        {
            Updates.Add(update);
            var order = Orders.Single(o => o.OrderID == update.OrderID);
            if (update.NewStatusID.HasValue)
            {
                order.OrderOrderStatusID = update.NewStatusID;
                order.OrderStatusName = Statuses.Single(s => s.OrderStatusID == update.NewStatusID.Value).OrderStatusName;
            }
            if (update.NewPaybridgeData != null) order.PaybridgeData = update.NewPaybridgeData;
            return Task.CompletedTask;
        }

        public void Log(PaybridgeLogLevel level, string code, string message) => LogLines.Add(level + " " + code + " " + message);
    }
}
