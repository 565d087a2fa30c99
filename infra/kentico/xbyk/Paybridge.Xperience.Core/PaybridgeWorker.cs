using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace Paybridge.Xperience
{
    /// <summary>What one POST to paybridge came to.</summary>
    public struct DeliveryResult
    {
        public bool Delivered;
        /// <summary>paybridge refused the event for good: retrying cannot help.</summary>
        public bool Permanent;
        public int Status;
        public string Error;
    }

    /// <summary>An event built from an object's current state, ready for the outbox.</summary>
    public sealed class BuiltEvent
    {
        public Guid EventId;
        public string Type;
        public string Body;
    }

    /// <summary>
    /// The background part of the package, Kentico-free: turns due changes into events in the
    /// <see cref="Outbox"/> and POSTs the outbox to paybridge with signatures, retries and
    /// backoff (the Kentico 13 module's <c>WebhookSender</c>, without Kentico's worker thread).
    /// </summary>
    /// <remarks>
    /// Not thread-safe: one loop (the app's hosted service) calls <see cref="RunOnceAsync"/> about
    /// once a second; only <see cref="ChangeQueue.Notify"/> is called from other threads.
    /// <list type="bullet">
    /// <item>Delivered: any 2xx (paybridge answers 202 once the event is queued).</item>
    /// <item>Final, to <c>dead/</c> at once: paybridge's refusal of the event itself, i.e. 400, 413 or
    /// 422 whose body carries its JSON error <c>code</c> (docs/CONTRACTS.md, Ingress answers: "What a
    /// sender should do"). The same statuses from a proxy or a wrong URL are retried.</item>
    /// <item>Retried with backoff (10 s, 20 s, 40 s … capped at 1 h, ±20 % jitter, signed afresh
    /// each time): everything else, 401/403/404 included — a wrong secret, clock or URL is fixed by
    /// an operator, and the events then flow without a manual replay — until
    /// <c>Paybridge:MaxAttempts</c> (default 20, about 11 h), then <c>dead/</c>.</item>
    /// </list>
    /// Events go oldest first; after a failed attempt the rest wait for the next round rather than
    /// piling up timeouts.
    /// </remarks>
    public sealed class PaybridgeWorker
    {
        public const string UserAgent = "Paybridge-Xperience/1.0";
        private static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(10);
        private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);
        private const int MaxSendsPerRound = 100;

        private readonly PaybridgeSettings settings;
        private readonly ChangeQueue changes;
        private readonly Func<DueChange, CancellationToken, Task<BuiltEvent>> build;
        private readonly HttpClient http;
        private readonly IPaybridgeLog log;
        private readonly Func<DateTime> utcNow;
        private readonly Random jitter = new Random();
        private readonly List<OutboxEntry> queue = new List<OutboxEntry>();
        private readonly HashSet<string> known = new HashSet<string>(StringComparer.Ordinal);
        private Outbox outbox;
        private DateTime nextRescanUtc = DateTime.MinValue;
        private DateTime nextErrorLogUtc = DateTime.MinValue;

        /// <param name="build">
        /// Re-reads the object and builds its event (the app's Kentico code, via
        /// <see cref="EventPayloadBuilder"/>); returns null when the object does not exist (yet).
        /// </param>
        /// <param name="http">A long-lived client; its own timeout should be infinite (the worker uses <c>Paybridge:TimeoutSeconds</c>).</param>
        public PaybridgeWorker(PaybridgeSettings settings, ChangeQueue changes, Func<DueChange, CancellationToken, Task<BuiltEvent>> build,
            HttpClient http, IPaybridgeLog log, Func<DateTime> utcNow)
        {
            if (settings == null) throw new ArgumentNullException(nameof(settings));
            if (!settings.IsUsable) throw new ArgumentException("Unusable settings: " + string.Join(" ", settings.Problems), nameof(settings));
            this.settings = settings;
            this.changes = changes ?? throw new ArgumentNullException(nameof(changes));
            this.build = build ?? throw new ArgumentNullException(nameof(build));
            this.http = http ?? throw new ArgumentNullException(nameof(http));
            this.log = log ?? throw new ArgumentNullException(nameof(log));
            this.utcNow = utcNow ?? (() => DateTime.UtcNow);
        }

        /// <summary>Entries waiting in memory (built, not yet delivered or given up).</summary>
        public int Waiting => queue.Count;

        /// <summary>
        /// One round: build due changes into the outbox, then (unless <paramref name="finishing"/>)
        /// send what is due. With <paramref name="finishing"/> (app shutdown) every pending change
        /// is built now and nothing is sent, so a restart loses nothing already committed.
        /// Never throws but for cancellation.
        /// </summary>
        public async Task RunOnceAsync(bool finishing, CancellationToken cancellationToken)
        {
            try
            {
                var now = utcNow();
                if (outbox == null) outbox = new Outbox(settings.OutboxPath);
                if (now >= nextRescanUtc) Rescan(now);
                await BuildDueAsync(now, finishing, cancellationToken).ConfigureAwait(false);
                if (!finishing) await SendDueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // A broken outbox folder fails every round: log it once a minute, not once a second.
                var now = utcNow();
                if (now >= nextErrorLogUtc)
                {
                    nextErrorLogUtc = now.AddMinutes(1);
                    log.Log(PaybridgeLogLevel.Error, "WORKER", ex.ToString());
                }
            }
        }

        private async Task BuildDueAsync(DateTime now, bool finishing, CancellationToken cancellationToken)
        {
            foreach (var change in changes.TakeDue(now, finishing))
            {
                BuiltEvent built;
                try
                {
                    built = await build(change, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    log.Log(PaybridgeLogLevel.Error, "BUILDFAILED", "Could not build the event for " + change + ": " + ex);
                    continue;
                }
                if (built == null)
                {
                    if (finishing || !changes.RetryNotFound(change, now))
                    {
                        log.Log(PaybridgeLogLevel.Warning, "NOTFOUND", change + " no longer exists; no event sent.");
                    }
                    continue;
                }
                var entry = outbox.Add(built.EventId, built.Type, EventSigner.BodyBytes(built.Body));
                known.Add(entry.FilePath);
                queue.Add(entry);
            }
        }

        /// <summary>Picks up files left by a previous run, or moved back from dead/ by an operator.</summary>
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

        private async Task SendDueAsync(CancellationToken cancellationToken)
        {
            int sent = 0;
            foreach (var entry in queue.Where(e => e.NextAttemptUtc <= utcNow()).ToList())
            {
                if (sent++ >= MaxSendsPerRound) return;
                var result = await PostAsync(entry, cancellationToken).ConfigureAwait(false);
                entry.Attempts++;
                if (result.Delivered)
                {
                    Forget(entry);
                    outbox.Delete(entry);
                    log.Log(PaybridgeLogLevel.Information, "DELIVERED", Describe(entry) + " delivered: HTTP " + result.Status
                        + (entry.Attempts > 1 ? " after " + entry.Attempts + " attempts." : "."));
                    continue;
                }

                entry.LastError = result.Error;
                if (result.Permanent || entry.Attempts >= settings.MaxAttempts)
                {
                    Forget(entry);
                    string deadPath = outbox.MoveToDead(entry, result.Error);
                    log.Log(PaybridgeLogLevel.Error, "DEADLETTER", Describe(entry) + " was not delivered after " + entry.Attempts
                        + " attempt(s) and is kept in " + deadPath + ". Last error: " + result.Error
                        + (result.Permanent ? " (paybridge refused it; retrying cannot help)." : " Move the file back to re-send it."));
                    continue;
                }

                entry.NextAttemptUtc = utcNow() + Backoff(entry.Attempts, jitter.NextDouble());
                if (entry.Attempts == 1)
                {
                    // One warning per event, not per retry, to keep the event log readable.
                    log.Log(PaybridgeLogLevel.Warning, "RETRY", Describe(entry) + " failed (" + result.Error + "); retrying with backoff, up to "
                        + settings.MaxAttempts + " attempts.");
                }
                return; // paybridge (or the network) is struggling: the rest wait for the next round
            }
        }

        private void Forget(OutboxEntry entry)
        {
            queue.Remove(entry);
            known.Remove(entry.FilePath);
        }

        /// <summary>One signed POST of an outbox entry, classified.</summary>
        public async Task<DeliveryResult> PostAsync(OutboxEntry entry, CancellationToken cancellationToken)
        {
            try
            {
                using (var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                using (var request = new HttpRequestMessage(HttpMethod.Post, settings.WebhookUrl))
                {
                    cts.CancelAfter(settings.Timeout);
                    request.Content = new ByteArrayContent(entry.Body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                    request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
                    // Signed now, not when built: paybridge refuses timestamps older than 300 s.
                    request.Headers.TryAddWithoutValidation(EventSigner.HeaderName,
                        EventSigner.BuildHeader(settings.Secrets, new DateTimeOffset(DateTime.SpecifyKind(utcNow(), DateTimeKind.Utc)).ToUnixTimeSeconds(), entry.Body));
                    using (var response = await http.SendAsync(request, cts.Token).ConfigureAwait(false))
                    {
                        int status = (int)response.StatusCode;
                        if (status >= 200 && status < 300) return new DeliveryResult { Delivered = true, Status = status };
                        // Content is null for a bodiless answer on .NET Framework and Mono.
                        string text = response.Content == null ? string.Empty : await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                        return new DeliveryResult
                        {
                            Status = status,
                            Permanent = IsFinalRefusal(status, text),
                            Error = "HTTP " + status + " " + Truncate(text, 300),
                        };
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new DeliveryResult { Error = "timed out after " + settings.Timeout.TotalSeconds + " s" };
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                // Connection refused, DNS, TLS, a reset: all retried.
                return new DeliveryResult { Error = ex.GetBaseException().Message };
            }
        }

        /// <summary>paybridge's 400/413/422 with its JSON error code: the event itself is refused.</summary>
        public static bool IsFinalRefusal(int status, string body) =>
            (status == 400 || status == 413 || status == 422) && body != null && body.Contains("\"code\"");

        /// <summary>10 s, 20 s, 40 s … capped at 1 h, times 0.8–1.2 (<paramref name="random01"/> in [0, 1)).</summary>
        public static TimeSpan Backoff(int attempts, double random01)
        {
            double seconds = Math.Min(MaxBackoff.TotalSeconds, 10 * Math.Pow(2, Math.Min(Math.Max(attempts, 1) - 1, 20)));
            return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * random01));
        }

        private static string Describe(OutboxEntry entry) => entry.EventType + " " + entry.EventId.ToString("D");

        private static string Truncate(string text, int max) =>
            string.IsNullOrEmpty(text) || text.Length <= max ? text : text.Substring(0, max) + "…";
    }
}
