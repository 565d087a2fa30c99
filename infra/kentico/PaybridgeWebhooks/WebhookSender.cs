using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;

using CMS.Base;
using CMS.Core;
using CMS.Ecommerce;

namespace Paybridge.Webhooks
{
    internal enum ObjectKind { Order, Customer }

    /// <summary>What an event handler saw: cheap to create on the request thread.</summary>
    internal sealed class ChangeNotice
    {
        public ObjectKind Kind;
        public int ObjectId;
        public bool Inserted;
        /// <summary>The change is committed (EcommerceEvents.NewOrderCreated): build now.</summary>
        public bool Committed;
        /// <summary>The current request's site, for objects that have none of their own.</summary>
        public string RequestSite;
    }

    /// <summary>
    /// Kentico's single background worker that turns change notices into signed POSTs to paybridge.
    /// Nothing here runs on a request thread: handlers only <see cref="ThreadQueueWorker{TItem,TWorker}.Enqueue"/>.
    /// </summary>
    /// <remarks>
    /// Each tick (1 s) runs three steps, all on this one thread:
    /// <list type="number">
    /// <item>Merge notices into a pending set keyed by object, so a burst of saves becomes one event.
    /// This is not only thrift: Kentico's checkout inserts the order (Insert.After: no items, no
    /// addresses, no status yet) and then updates it within the same transaction. An event built
    /// from the insert alone would be wrong, and a read from another connection before commit sees
    /// nothing (or blocks). So a new order waits for EcommerceEvents.NewOrderCreated (raised after
    /// commit) or, for orders created through the API, for <see cref="InsertGrace"/>; updates wait
    /// for the debounce quiet period. The type is "created" if any merged notice was an insert.</item>
    /// <item>Build due events from the objects re-read by ID, and write each to the
    /// <see cref="Outbox"/> before the first attempt (durable across recycles).</item>
    /// <item>Send due outbox entries, oldest first; retry with exponential backoff and jitter.</item>
    /// </list>
    /// Loops: the module never writes to Kentico, and paybridge's own REST writes come back here as
    /// ordinary updates, are sent, and are ignored there (nothing it depends on changed), so no
    /// cycle can form; the merge step also caps any object at one event per quiet period.
    /// </remarks>
    internal sealed class WebhookSender : ThreadQueueWorker<ChangeNotice, WebhookSender>
    {
        private const string Source = "Paybridge";
        private static readonly TimeSpan InsertGrace = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan MaxDebounceDelay = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan NotFoundRetry = TimeSpan.FromSeconds(3);
        private const int MaxNotFound = 20;                  // ~1 minute: a rolled-back insert
        private static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(10);
        private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);
        private const int MaxSendsPerTick = 100;

        // One HttpClient for the process: a client per request exhausts sockets under load.
        private static readonly HttpClient Http = CreateClient();
        private static volatile PaybridgeSettings settings;

        // Touched only on the worker thread (ThreadWorker serialises Process, including the call
        // from Finish), so no locking is needed below.
        private readonly Dictionary<string, Pending> pending = new Dictionary<string, Pending>();
        private readonly List<OutboxEntry> queue = new List<OutboxEntry>();
        private readonly HashSet<string> known = new HashSet<string>(StringComparer.Ordinal);
        private readonly Random jitter = new Random();
        private Outbox outbox;
        private DateTime nextRescanUtc = DateTime.MinValue;
        private DateTime nextWorkerErrorLogUtc = DateTime.MinValue;
        private volatile bool finishing;

        private sealed class Pending
        {
            public ObjectKind Kind;
            public int ObjectId;
            public bool Inserted;
            public bool Committed;
            public string RequestSite;
            public DateTime FirstSeenUtc;
            public DateTime DueUtc;
            public int NotFound;
        }

        protected override int DefaultInterval => 1000;

        /// <summary>Called once by the module before any notice is enqueued.</summary>
        public static void Configure(PaybridgeSettings usable)
        {
            settings = usable;
            // HttpClient on .NET Framework keeps connections (and their DNS answer) forever; API
            // Gateway's addresses change, so recycle connections every minute. No-op on .NET Core.
            ServicePointManager.FindServicePoint(usable.WebhookUrl).ConnectionLeaseTimeout = 60 * 1000;
        }

        protected override void Initialize()
        {
            // Runs on the worker thread before the first tick; an exception here would end the
            // thread, so a failure is left to the retry in ProcessItems.
            try
            {
                outbox = new Outbox(settings.OutboxPath);
            }
            catch (Exception ex)
            {
                LogWorkerError(ex);
            }
        }

        protected override void ProcessItem(ChangeNotice item) => ProcessItems(new[] { item });

        protected override int ProcessItems(IEnumerable<ChangeNotice> items)
        {
            var config = settings;
            if (config == null) return 0;
            var now = DateTime.UtcNow;

            int count = 0;
            foreach (var notice in items)
            {
                Merge(notice, now, config);
                count++;
            }

            try
            {
                if (outbox == null) outbox = new Outbox(config.OutboxPath);
                if (now >= nextRescanUtc) Rescan(now);
                BuildDue(now, config);
                if (!finishing) SendDue(config);
            }
            catch (Exception ex)
            {
                // Never let the thread die; the next tick tries again.
                LogWorkerError(ex);
            }
            return count;
        }

        // A broken outbox folder fails every tick: log it once a minute, not once a second.
        private void LogWorkerError(Exception ex)
        {
            var now = DateTime.UtcNow;
            if (now < nextWorkerErrorLogUtc) return;
            nextWorkerErrorLogUtc = now.AddMinutes(1);
            Log(EventTypeEnum.Error, "WORKER", ex.ToString());
        }

        /// <summary>
        /// On application shutdown, build what is pending into the outbox without sending, so an
        /// app-pool recycle loses nothing that was already committed. Kentico may cut this short.
        /// </summary>
        protected override void Finish()
        {
            finishing = true;
            RunProcess();
        }

        private void Merge(ChangeNotice notice, DateTime now, PaybridgeSettings config)
        {
            string key = notice.Kind + ":" + notice.ObjectId;
            Pending p;
            if (!pending.TryGetValue(key, out p))
            {
                p = new Pending { Kind = notice.Kind, ObjectId = notice.ObjectId, FirstSeenUtc = now, DueUtc = now + config.Debounce };
                pending.Add(key, p);
            }
            p.Inserted |= notice.Inserted;
            p.Committed |= notice.Committed;
            p.RequestSite = p.RequestSite ?? notice.RequestSite;

            if (notice.Committed)
            {
                p.DueUtc = now;
            }
            else if (p.Inserted && !p.Committed && p.Kind == ObjectKind.Order)
            {
                // Wait for NewOrderCreated (after commit); orders saved through the API never raise it.
                p.DueUtc = Max(p.DueUtc, p.FirstSeenUtc + InsertGrace);
            }
            else
            {
                // Sliding quiet period, bounded so a busy object still gets an event.
                p.DueUtc = Min(now + config.Debounce, p.FirstSeenUtc + MaxDebounceDelay);
            }
        }

        private void BuildDue(DateTime now, PaybridgeSettings config)
        {
            foreach (var p in pending.Values.Where(x => finishing || x.DueUtc <= now).ToList())
            {
                string key = p.Kind + ":" + p.ObjectId;
                try
                {
                    var eventId = Guid.NewGuid();
                    string type;
                    string body = Build(p, eventId, out type);
                    if (body == null)
                    {
                        // Not visible yet (transaction still open) or rolled back / deleted.
                        if (++p.NotFound < MaxNotFound && !finishing)
                        {
                            p.DueUtc = now + NotFoundRetry;
                            continue;
                        }
                        pending.Remove(key);
                        Log(EventTypeEnum.Warning, "NOTFOUND", p.Kind + " " + p.ObjectId + " no longer exists; no event sent.");
                        continue;
                    }

                    var entry = outbox.Add(eventId, type, WebhookSigner.BodyBytes(body));
                    known.Add(entry.FilePath);
                    queue.Add(entry);
                    pending.Remove(key);
                }
                catch (Exception ex)
                {
                    pending.Remove(key);
                    Log(EventTypeEnum.Error, "BUILDFAILED", "Could not build the event for " + p.Kind + " " + p.ObjectId + ": " + ex);
                }
            }
        }

        private static string Build(Pending p, Guid eventId, out string type)
        {
            long created = WebhookSigner.UnixNow();
            if (p.Kind == ObjectKind.Order)
            {
                type = p.Inserted ? EventPayloadBuilder.OrderCreated : EventPayloadBuilder.OrderUpdated;
                var order = OrderInfo.Provider.Get(p.ObjectId);
                return order == null ? null : EventPayloadBuilder.BuildOrderEvent(order, type, eventId, created);
            }

            type = p.Inserted ? EventPayloadBuilder.CustomerCreated : EventPayloadBuilder.CustomerUpdated;
            var customer = CustomerInfo.Provider.Get(p.ObjectId);
            return customer == null ? null : EventPayloadBuilder.BuildCustomerEvent(customer, type, eventId, created, p.RequestSite);
        }

        /// <summary>Picks up files left by a previous run, or moved back from dead\ by an operator.</summary>
        private void Rescan(DateTime now)
        {
            nextRescanUtc = now + RescanInterval;
            foreach (var entry in outbox.LoadNew(known))
            {
                known.Add(entry.FilePath);
                queue.Add(entry);
            }
            queue.Sort((a, b) => string.CompareOrdinal(a.FilePath, b.FilePath));
        }

        private void SendDue(PaybridgeSettings config)
        {
            int sent = 0;
            foreach (var entry in queue.Where(e => e.NextAttemptUtc <= DateTime.UtcNow).ToList())
            {
                if (finishing || sent++ >= MaxSendsPerTick) return;

                var result = Post(entry, config);
                entry.Attempts++;
                if (result.Delivered)
                {
                    Forget(entry);
                    outbox.Delete(entry);
                    if (config.LogDeliveries || entry.Attempts > 1)
                    {
                        Log(EventTypeEnum.Information, "DELIVERED", Describe(entry) + " delivered: HTTP " + result.Status
                            + (entry.Attempts > 1 ? " after " + entry.Attempts + " attempts." : "."));
                    }
                    continue;
                }

                entry.LastError = result.Error;
                if (result.Permanent || entry.Attempts >= config.MaxAttempts)
                {
                    Forget(entry);
                    string deadPath = outbox.MoveToDead(entry, result.Error);
                    Log(EventTypeEnum.Error, "DEADLETTER", Describe(entry) + " was not delivered after " + entry.Attempts
                        + " attempt(s) and is kept in " + deadPath + ". Last error: " + result.Error
                        + (result.Permanent ? " (paybridge refused it; retrying cannot help)." : " Move the file back to re-send it."));
                    continue;
                }

                var delay = Backoff(entry.Attempts);
                entry.NextAttemptUtc = DateTime.UtcNow + delay;
                if (entry.Attempts == 1)
                {
                    // One warning per event, not per retry, to keep the event log readable.
                    Log(EventTypeEnum.Warning, "RETRY", Describe(entry) + " failed (" + result.Error + "); retrying with backoff, up to "
                        + config.MaxAttempts + " attempts.");
                }
                // paybridge (or the network) is struggling: leave the rest for later ticks rather
                // than spending this tick waiting on timeouts.
                return;
            }
        }

        private void Forget(OutboxEntry entry)
        {
            queue.Remove(entry);
            known.Remove(entry.FilePath);
        }

        private struct PostResult
        {
            public bool Delivered;
            public bool Permanent;
            public int Status;
            public string Error;
        }

        private static PostResult Post(OutboxEntry entry, PaybridgeSettings config)
        {
            try
            {
                using (var cts = new CancellationTokenSource(config.Timeout))
                using (var request = new HttpRequestMessage(HttpMethod.Post, config.WebhookUrl))
                {
                    request.Content = new ByteArrayContent(entry.Body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                    // Signed now, not when built: paybridge rejects timestamps older than 300 s.
                    request.Headers.TryAddWithoutValidation(WebhookSigner.HeaderName,
                        WebhookSigner.BuildHeader(config.Secrets, WebhookSigner.UnixNow(), entry.Body));

                    // Sync over async is safe here: this is a dedicated thread without a
                    // SynchronizationContext, and this worker sends one request at a time anyway.
                    using (var response = Http.SendAsync(request, cts.Token).ConfigureAwait(false).GetAwaiter().GetResult())
                    {
                        int status = (int)response.StatusCode;
                        if (status >= 200 && status < 300)
                        {
                            return new PostResult { Delivered = true, Status = status };
                        }
                        string text = response.Content.ReadAsStringAsync().ConfigureAwait(false).GetAwaiter().GetResult();
                        return new PostResult
                        {
                            Status = status,
                            // paybridge's 400 (malformed JSON or envelope) and 413 (too large) can
                            // never succeed; its refusals are JSON with an error code. The same
                            // statuses from a proxy or a wrong URL are retried like anything else.
                            // 401 is retried too: a wrong secret or clock is fixed by an operator,
                            // and the events should then flow without manual replay.
                            Permanent = (status == 400 || status == 413 || status == 422)
                                && text != null && text.Contains("\"code\""),
                            Error = "HTTP " + status + " " + Truncate(text, 300),
                        };
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return new PostResult { Error = "timed out after " + config.Timeout.TotalSeconds + " s" };
            }
            catch (Exception ex)
            {
                return new PostResult { Error = ex.GetBaseException().Message };
            }
        }

        /// <summary>10 s, 20 s, 40 s … capped at 1 h, ±20 % so a backlog does not retry in lockstep.</summary>
        private TimeSpan Backoff(int attempts)
        {
            double seconds = Math.Min(MaxBackoff.TotalSeconds, 10 * Math.Pow(2, Math.Min(attempts - 1, 20)));
            return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * jitter.NextDouble()));
        }

        private static HttpClient CreateClient()
        {
            // Timeouts come from a CancellationTokenSource per request (configurable, and
            // distinguishable from other cancellations), so the client-wide one is disabled.
            var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.UserAgent.ParseAdd("Paybridge-Kentico-Module/1.0");
            return client;
        }

        private static string Describe(OutboxEntry entry) => entry.EventType + " " + entry.EventId.ToString("D");

        private static string Truncate(string text, int max) =>
            string.IsNullOrEmpty(text) || text.Length <= max ? text : text.Substring(0, max) + "…";

        private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
        private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

        internal static void Log(EventTypeEnum type, string code, string description)
        {
            try
            {
                Service.Resolve<IEventLogService>().LogEvent(type, Source, code, description);
            }
            catch
            {
                // Logging must never take the worker (or a request) down.
            }
        }
    }
}
