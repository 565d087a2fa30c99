using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Paybridge.Xperience
{
    /// <summary>What a route received: enough to verify the signature and read the request.</summary>
    public sealed class PaybridgeRequest
    {
        /// <summary>The HTTP method (<c>GET</c>, <c>POST</c>).</summary>
        public string Method;
        /// <summary>The request target exactly as received: raw path (base path included), then <c>?query</c>.</summary>
        public string PathAndQuery;
        /// <summary>The <c>X-Paybridge-Signature</c> header, or null.</summary>
        public string SignatureHeader;
        /// <summary>The raw body; empty for a GET.</summary>
        public byte[] Body = new byte[0];
    }

    /// <summary>An HTTP answer: status code and compact JSON body (<c>application/json; charset=utf-8</c>).</summary>
    public sealed class PaybridgeAnswer
    {
        public PaybridgeAnswer(int statusCode, string body)
        {
            StatusCode = statusCode;
            Body = body;
        }

        public int StatusCode { get; private set; }
        public string Body { get; private set; }

        public const string ContentType = "application/json; charset=utf-8";

        public static PaybridgeAnswer Error(int statusCode, string error, string message)
        {
            var w = new JsonWriter().BeginObject().Name("error").Value(error);
            if (message != null) w.Name("message").Value(message);
            return new PaybridgeAnswer(statusCode, w.EndObject().ToString());
        }

        public static PaybridgeAnswer BadRequest(string message) => Error(400, "bad_request", message);
        public static PaybridgeAnswer OrderNotFound() => Error(404, "order_not_found", null);

        public override string ToString() => StatusCode + " " + Body;
    }

    /// <summary>The answer of an applied write-back, kept by <see cref="IdempotencyMemory"/> for replays.</summary>
    public sealed class WriteBackAnswer
    {
        public WriteBackAnswer(Guid orderGuid, string status, bool statusChanged)
        {
            OrderGuid = orderGuid;
            Status = status;
            StatusChanged = statusChanged;
        }

        public Guid OrderGuid { get; private set; }
        /// <summary>The order's status code name after the write; null when it has none.</summary>
        public string Status { get; private set; }
        public bool StatusChanged { get; private set; }

        /// <summary><c>{"order_guid":…,"status":…,"status_changed":…,"replayed":…}</c></summary>
        public string ToJson(bool replayed) => new JsonWriter().BeginObject()
            .Name("order_guid").Value(OrderGuid)
            .Name("status").Value(Status)
            .Name("status_changed").Value(StatusChanged)
            .Name("replayed").Value(replayed)
            .EndObject().ToString();
    }

    /// <summary>
    /// The four routes of docs/CONTRACTS.md, "Xperience by Kentico order endpoints", from raw
    /// request to answer, Kentico-free: the app's minimal-API routes (Paybridge.Xperience) only
    /// copy the request in and the answer out.
    /// </summary>
    /// <remarks>
    /// Every route verifies the signature first; a refused request reads and writes nothing.
    /// Write-backs are applied one at a time per process (a semaphore): they are rare, and this
    /// keeps a replayed id and the read-merge-write of <c>PaybridgeData</c> free of races.
    /// Unexpected exceptions become <c>500 {"error":"internal",…}</c> and are logged.
    /// </remarks>
    public sealed class PaybridgeEndpoints
    {
        public const string PackageName = "Paybridge.Xperience";
        public const string PackageVersion = "1.0.0";
        public const string LogCodeWrite = "ORDER_WRITE";

        private readonly IOrderStore store;
        private readonly IReadOnlyList<string> secrets;
        private readonly string currency;
        private readonly IdempotencyMemory memory;
        private readonly Func<long> unixNow;
        private readonly SemaphoreSlim writeLock = new SemaphoreSlim(1, 1);

        /// <param name="secrets">The secrets that verify a request (any of them): <c>Paybridge:ApiSecrets</c> when set,
        /// else <c>Paybridge:WebhookSecrets</c> (<see cref="PaybridgeSettings.RequestSecrets"/>).</param>
        /// <param name="currency"><c>Paybridge:Currency</c> or null: orders then carry no <c>OrderCurrencyCode</c>.</param>
        /// <param name="unixNow">The clock (unix seconds); null for the system clock.</param>
        public PaybridgeEndpoints(IOrderStore store, IReadOnlyList<string> secrets, string currency, IdempotencyMemory memory, Func<long> unixNow)
        {
            if (store == null) throw new ArgumentNullException(nameof(store));
            if (secrets == null || secrets.Count == 0) throw new ArgumentException("At least one secret is required.", nameof(secrets));
            this.store = store;
            this.secrets = secrets;
            this.currency = currency;
            this.memory = memory ?? new IdempotencyMemory();
            this.unixNow = unixNow ?? (() => DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        }

        /// <summary>
        /// The routes as configured: requests are verified with <see cref="PaybridgeSettings.RequestSecrets"/>
        /// (<c>Paybridge:ApiSecrets</c> when set, else <c>Paybridge:WebhookSecrets</c>).
        /// </summary>
        public PaybridgeEndpoints(IOrderStore store, PaybridgeSettings settings)
            : this(store, settings, new IdempotencyMemory(), null) { }

        /// <param name="unixNow">The clock (unix seconds); null for the system clock.</param>
        public PaybridgeEndpoints(IOrderStore store, PaybridgeSettings settings, IdempotencyMemory memory, Func<long> unixNow)
            : this(store, RequireSettings(settings).RequestSecrets, settings.Currency, memory, unixNow) { }

        private static PaybridgeSettings RequireSettings(PaybridgeSettings settings)
        {
            if (settings == null) throw new ArgumentNullException(nameof(settings));
            return settings;
        }

        /// <summary><c>GET /paybridge/health</c>: package, version and the statuses (code and display names).</summary>
        public Task<PaybridgeAnswer> HealthAsync(PaybridgeRequest request, CancellationToken cancellationToken) =>
            Guarded(request, async () =>
            {
                var statuses = await store.GetStatusesAsync(cancellationToken).ConfigureAwait(false);
                var w = new JsonWriter().BeginObject()
                    .Name("package").Value(PackageName)
                    .Name("version").Value(PackageVersion)
                    .Name("statuses").BeginArray();
                foreach (var s in statuses)
                {
                    w.BeginObject().Name("name").Value(s.OrderStatusName)
                        .Name("display_name").Value(s.OrderStatusDisplayName).EndObject();
                }
                return new PaybridgeAnswer(200, w.EndArray().EndObject().ToString());
            });

        /// <summary><c>GET /paybridge/orders/{orderGuid}</c>: the order object, or 404.</summary>
        public Task<PaybridgeAnswer> GetOrderAsync(PaybridgeRequest request, string orderGuid, CancellationToken cancellationToken) =>
            Guarded(request, async () =>
            {
                Guid guid;
                string error;
                if (!RouteParsing.TryParseOrderGuid(orderGuid, out guid, out error)) return PaybridgeAnswer.BadRequest(error);
                var order = await store.FindOrderAsync(guid, true, cancellationToken).ConfigureAwait(false);
                if (order == null) return PaybridgeAnswer.OrderNotFound();
                return new PaybridgeAnswer(200, EventPayloadBuilder.BuildOrderObject(order, currency));
            });

        /// <summary><c>GET /paybridge/orders?modified_since=…&amp;after_id=…&amp;limit=…</c>: <c>{"orders":[…]}</c>.</summary>
        public Task<PaybridgeAnswer> ListOrdersAsync(PaybridgeRequest request, CancellationToken cancellationToken) =>
            Guarded(request, async () =>
            {
                string target = request.PathAndQuery ?? string.Empty;
                int q = target.IndexOf('?');
                string error;
                var query = RouteParsing.ParseListQuery(q < 0 ? string.Empty : target.Substring(q + 1), out error);
                if (query == null) return PaybridgeAnswer.BadRequest(error);
                var orders = await store.ListOrdersAsync(query.ModifiedSinceUtc, query.AfterId, query.Limit, cancellationToken).ConfigureAwait(false);
                var w = new JsonWriter().BeginObject().Name("orders").BeginArray();
                foreach (var order in orders.OrderBy(o => o.OrderID).Take(query.Limit))
                {
                    EventPayloadBuilder.WriteOrder(w, order, currency);
                }
                return new PaybridgeAnswer(200, w.EndArray().EndObject().ToString());
            });

        /// <summary><c>POST /paybridge/orders/{orderGuid}/status</c>: the write-back.</summary>
        public Task<PaybridgeAnswer> WriteStatusAsync(PaybridgeRequest request, string orderGuid, CancellationToken cancellationToken) =>
            Guarded(request, async () =>
            {
                Guid guid;
                string error;
                if (!RouteParsing.TryParseOrderGuid(orderGuid, out guid, out error)) return PaybridgeAnswer.BadRequest(error);
                var write = WriteBackRequest.Parse(request.Body, out error);
                if (write == null) return PaybridgeAnswer.BadRequest(error);

                var first = memory.Find(write.EventId);
                if (first != null) return new PaybridgeAnswer(200, first.ToJson(true));

                await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    first = memory.Find(write.EventId); // a concurrent duplicate may have finished meanwhile
                    if (first != null) return new PaybridgeAnswer(200, first.ToJson(true));
                    return await ApplyAsync(guid, write, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    writeLock.Release();
                }
            });

        private async Task<PaybridgeAnswer> ApplyAsync(Guid guid, WriteBackRequest write, CancellationToken cancellationToken)
        {
            var order = await store.FindOrderAsync(guid, false, cancellationToken).ConfigureAwait(false);
            if (order == null) return PaybridgeAnswer.OrderNotFound();

            int? currentId = order.OrderOrderStatusID.HasValue && order.OrderOrderStatusID.Value > 0 ? order.OrderOrderStatusID : null;
            string statusNow = string.IsNullOrEmpty(order.OrderStatusName) ? null : order.OrderStatusName;
            int? newStatusId = null;
            if (write.Status != null)
            {
                var statuses = await store.GetStatusesAsync(cancellationToken).ConfigureAwait(false);
                var target = ResolveStatus(statuses, write.Status);
                if (target == null) return UnknownStatus(write.Status, statuses);
                if (currentId != target.OrderStatusID) newStatusId = target.OrderStatusID;
                statusNow = target.OrderStatusName;
            }

            string newData = null;
            bool hasData = write.Paid.HasValue || write.PaymentReference != null || write.Details.Count > 0;
            if (hasData && order.HasPaybridgeDataField)
            {
                // Computed before anything is written: a field that is not a JSON object fails the whole write.
                string merged = PaybridgeData.Merge(order.PaybridgeData, write.Paid, write.PaymentReference, write.Details);
                string current = order.PaybridgeData ?? string.Empty;
                bool unchanged = merged == current || (current.Trim().Length == 0 && merged == "{}");
                if (!unchanged) newData = merged;
            }

            if (newStatusId.HasValue || newData != null)
            {
                await store.UpdateOrderAsync(new OrderUpdate { OrderID = order.OrderID, NewStatusID = newStatusId, NewPaybridgeData = newData }, cancellationToken)
                    .ConfigureAwait(false);
            }
            store.Log(PaybridgeLogLevel.Information, LogCodeWrite, "Order " + order.OrderID + " (" + guid.ToString("D") + "), write " + write.EventId + ": "
                + (newStatusId.HasValue ? "status set to " + statusNow : "status unchanged (" + (statusNow ?? "none") + ")")
                + (newData != null ? ", PaybridgeData updated" : hasData && !order.HasPaybridgeDataField ? ", no PaybridgeData field on the order class (payment data not kept)" : "")
                + ".");

            var answer = new WriteBackAnswer(guid, statusNow, newStatusId.HasValue);
            memory.Remember(write.EventId, answer);
            return new PaybridgeAnswer(200, answer.ToJson(false));
        }

        /// <summary>The status whose code name matches (without case), else whose display name does; null when none.</summary>
        public static OrderStatusData ResolveStatus(IEnumerable<OrderStatusData> statuses, string name)
        {
            string n = (name ?? string.Empty).Trim();
            var list = statuses.ToList();
            return list.FirstOrDefault(s => string.Equals(s.OrderStatusName, n, StringComparison.OrdinalIgnoreCase))
                ?? list.FirstOrDefault(s => string.Equals(s.OrderStatusDisplayName, n, StringComparison.OrdinalIgnoreCase));
        }

        private static PaybridgeAnswer UnknownStatus(string sent, IEnumerable<OrderStatusData> statuses)
        {
            var w = new JsonWriter().BeginObject()
                .Name("error").Value("unknown_status")
                .Name("status").Value(sent)
                .Name("known_statuses").BeginArray();
            foreach (var s in statuses) w.Value(s.OrderStatusName);
            return new PaybridgeAnswer(422, w.EndArray().EndObject().ToString());
        }

        // Signature first, then the route's work; exceptions become a logged 500.
        private async Task<PaybridgeAnswer> Guarded(PaybridgeRequest request, Func<Task<PaybridgeAnswer>> work)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            var check = RequestSignature.Verify(request.SignatureHeader, request.Method ?? string.Empty, request.PathAndQuery ?? string.Empty,
                request.Body ?? new byte[0], secrets, unixNow());
            if (!check.IsValid)
            {
                return PaybridgeAnswer.Error(401, "signature_invalid", check.Failure);
            }
            try
            {
                return await work().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw; // the client went away: nothing to answer
            }
            catch (Exception ex)
            {
                store.Log(PaybridgeLogLevel.Error, "REQUEST_FAILED", (request.Method ?? "") + " " + (request.PathAndQuery ?? "") + ": " + ex);
                return PaybridgeAnswer.Error(500, "internal", ex.GetBaseException().Message);
            }
        }
    }
}
