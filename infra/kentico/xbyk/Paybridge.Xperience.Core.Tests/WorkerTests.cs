using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

using Paybridge.Xperience;

using Xunit;

namespace Paybridge.Xperience.Tests
{
    /// <summary>The change queue, the outbox and the sender's retry rules, against a fake HTTP handler.</summary>
    public class WorkerTests : IDisposable
    {
        private readonly string root = Path.Combine(Path.GetTempPath(), "paybridge-xbyk-tests-" + Guid.NewGuid().ToString("N"));
        private DateTime now = new DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);
        private readonly FakeHandler handler = new FakeHandler();
        private readonly List<string> log = new List<string>();
        private readonly ChangeQueue changes = new ChangeQueue();
        private readonly PaybridgeSettings settings;
        private readonly PaybridgeWorker worker;
        private readonly List<DueChange> built = new List<DueChange>();
        private bool objectsExist = true;

        public WorkerTests()
        {
            var values = new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, "https://paybridge.example.com/webhooks/kentico" },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret + "," + SignatureTests.NextSecret },
                { PaybridgeSettings.MaxAttemptsKey, "3" },
            };
            settings = PaybridgeSettings.Load(k => values.TryGetValue(k, out var v) ? v : null, "Shop", root);
            worker = new PaybridgeWorker(settings, changes, Build, new HttpClient(handler), new ListLog(log), () => now);
        }

        public void Dispose()
        {
            try { Directory.Delete(root, true); } catch (IOException) { }
        }

        private Task<BuiltEvent> Build(DueChange change, CancellationToken ct)
        {
            built.Add(change);
            if (!objectsExist) return Task.FromResult<BuiltEvent>(null);
            string type = change.Kind == ObjectKind.Order
                ? (change.Inserted ? EventPayloadBuilder.OrderCreated : EventPayloadBuilder.OrderUpdated)
                : (change.Inserted ? EventPayloadBuilder.CustomerCreated : EventPayloadBuilder.CustomerUpdated);
            var id = Guid.NewGuid();
            return Task.FromResult(new BuiltEvent { EventId = id, Type = type, Body = "{\"id\":\"" + id + "\",\"type\":\"" + type + "\",\"n\":\"\u00e9\"}" });
        }

        private void Run(bool finishing = false) => worker.RunOnceAsync(finishing, CancellationToken.None).GetAwaiter().GetResult();

        private string[] OutboxFiles() => Directory.GetFiles(settings.OutboxPath, "*.json");
        private string[] DeadFiles() => Directory.GetFiles(Path.Combine(settings.OutboxPath, "dead"));

        [Fact]
        public void BurstsOfSavesBecomeOneEventAfterTheQuietPeriod()
        {
            changes.Notify(ObjectKind.Customer, 77, true, false, now);
            changes.Notify(ObjectKind.Customer, 77, false, false, now.AddSeconds(1));
            now = now.AddSeconds(2);
            Run();
            Assert.Empty(built); // 1 s + 2 s quiet period not over yet
            now = now.AddSeconds(1);
            Run();
            var change = Assert.Single(built);
            Assert.True(change.Inserted); // created, because one merged save was an insert
            var request = Assert.Single(handler.Requests);
            Assert.Contains("\"type\":\"ecommerce.customer.created\"", request.Body);
        }

        [Fact]
        public void ANewOrderWaitsForItsCheckoutOrTheGracePeriod()
        {
            changes.Notify(ObjectKind.Order, 1042, true, false, now);
            changes.Notify(ObjectKind.Order, 1042, false, false, now.AddSeconds(1));
            now = now.AddSeconds(10);
            Run();
            Assert.Empty(built);
            changes.Notify(ObjectKind.Order, 1042, false, true, now); // the checkout completed it
            Run();
            Assert.True(Assert.Single(built).Inserted);

            changes.Notify(ObjectKind.Order, 1043, true, false, now);
            now = now.AddSeconds(30);
            Run();
            Assert.Equal(2, built.Count);
        }

        [Fact]
        public void DeliveredEventsAreSignedAndRemoved()
        {
            changes.Notify(ObjectKind.Order, 1, false, true, now);
            Run();
            var request = Assert.Single(handler.Requests);
            Assert.Equal("https://paybridge.example.com/webhooks/kentico", request.Url);
            Assert.Equal("application/json; charset=utf-8", request.ContentType);
            Assert.Equal(PaybridgeWorker.UserAgent, request.UserAgent);
            long t = new DateTimeOffset(now).ToUnixTimeSeconds();
            byte[] body = Encoding.UTF8.GetBytes(request.Body);
            Assert.Equal(EventSigner.BuildHeader(new[] { SignatureTests.Secret, SignatureTests.NextSecret }, t, body), request.Signature);
            Assert.Empty(OutboxFiles());
            Assert.Contains("DELIVERED", log.Single());
        }

        [Fact]
        public void EventsAreSignedWithTheWebhookSecretsEvenWhenApiSecretsAreSet()
        {
            var values = new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, "https://paybridge.example.com/webhooks/kentico" },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
                { PaybridgeSettings.ApiSecretsKey, SettingsTests.ApiSecret },
            };
            var apiSettings = PaybridgeSettings.Load(k => values.TryGetValue(k, out var v) ? v : null, "Shop", root);
            Assert.True(apiSettings.IsUsable, string.Join(" ", apiSettings.Problems));
            var apiWorker = new PaybridgeWorker(apiSettings, changes, Build, new HttpClient(handler), new ListLog(log), () => now);
            changes.Notify(ObjectKind.Order, 1, false, true, now);
            apiWorker.RunOnceAsync(false, CancellationToken.None).GetAwaiter().GetResult();
            var request = Assert.Single(handler.Requests);
            long t = new DateTimeOffset(now).ToUnixTimeSeconds();
            byte[] body = Encoding.UTF8.GetBytes(request.Body);
            Assert.Equal(EventSigner.BuildHeader(new[] { SignatureTests.Secret }, t, body), request.Signature);
            Assert.DoesNotContain(EventSigner.ComputeSignature(SettingsTests.ApiSecret, t, body), request.Signature);
        }

        [Fact]
        public void FailuresAreRetriedWithBackoffThenDeadLettered()
        {
            handler.Answers.Enqueue(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") });
            handler.Answers.Enqueue(new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent("{\"error\":{\"code\":\"signature_mismatch\"}}") });
            handler.Answers.Enqueue(new HttpResponseMessage((HttpStatusCode)429));
            changes.Notify(ObjectKind.Order, 1, false, true, now);
            Run();
            Assert.Single(handler.Requests);
            Assert.Single(OutboxFiles());
            Run();
            Assert.Single(handler.Requests); // backing off: at least 8 s
            now = now.AddSeconds(13);
            Run();
            Assert.Equal(2, handler.Requests.Count); // the 401 is retried too
            now = now.AddSeconds(25);
            Run();
            Assert.Equal(3, handler.Requests.Count);
            Assert.Empty(OutboxFiles());
            Assert.Equal(2, DeadFiles().Length); // the .json and its .txt reason
            Assert.Contains("HTTP 429", File.ReadAllText(DeadFiles().Single(f => f.EndsWith(".txt"))));
            Assert.Contains("RETRY", log[0]);
            Assert.Contains("DEADLETTER", log[1]);
        }

        [Fact]
        public void PaybridgesRefusalOfTheEventIsFinal()
        {
            handler.Answers.Enqueue(new HttpResponseMessage(HttpStatusCode.BadRequest)
            {
                Content = new StringContent("{\"error\":{\"code\":\"envelope_invalid\",\"message\":\"…\"}}"),
            });
            changes.Notify(ObjectKind.Order, 1, false, true, now);
            Run();
            Assert.Empty(OutboxFiles());
            Assert.Equal(2, DeadFiles().Length);
            Assert.Contains("retrying cannot help", log.Single());
        }

        [Fact]
        public void FinalRefusalNeedsPaybridgesErrorCode()
        {
            Assert.True(PaybridgeWorker.IsFinalRefusal(413, "{\"error\":{\"code\":\"payload_too_large\"}}"));
            Assert.False(PaybridgeWorker.IsFinalRefusal(400, "<html>Bad Request</html>"));
            Assert.False(PaybridgeWorker.IsFinalRefusal(401, "{\"error\":{\"code\":\"signature_mismatch\"}}"));
            Assert.False(PaybridgeWorker.IsFinalRefusal(404, "{\"error\":{\"code\":\"unknown_source\"}}"));
            Assert.False(PaybridgeWorker.IsFinalRefusal(503, "{\"error\":{\"code\":\"queue_unavailable\"}}"));
        }

        [Fact]
        public void BackoffDoublesUpToAnHour()
        {
            Assert.Equal(8.0, PaybridgeWorker.Backoff(1, 0).TotalSeconds);
            Assert.Equal(20.0, PaybridgeWorker.Backoff(2, 0.5).TotalSeconds);
            Assert.Equal(3600.0 * 1.2, PaybridgeWorker.Backoff(50, 1.0).TotalSeconds, 6);
        }

        [Fact]
        public void FilesLeftByAnEarlierRunAreSent()
        {
            var outbox = new Outbox(settings.OutboxPath);
            var id = Guid.NewGuid();
            outbox.Add(id, EventPayloadBuilder.OrderUpdated, Encoding.UTF8.GetBytes("{\"left\":true}"));
            Run();
            Assert.Equal("{\"left\":true}", Assert.Single(handler.Requests).Body);
            Assert.Empty(OutboxFiles());
        }

        [Fact]
        public void ShutdownBuildsEverythingPendingWithoutSending()
        {
            changes.Notify(ObjectKind.Order, 1, true, false, now);
            changes.Notify(ObjectKind.Customer, 2, false, false, now);
            Run(finishing: true);
            Assert.Equal(2, built.Count);
            Assert.Empty(handler.Requests);
            Assert.Equal(2, OutboxFiles().Length);
        }

        [Fact]
        public void MissingObjectsAreRetriedThenDropped()
        {
            objectsExist = false;
            changes.Notify(ObjectKind.Order, 1, false, true, now);
            for (int i = 0; i < ChangeQueue.MaxNotFound + 2; i++)
            {
                Run();
                now = now.AddSeconds(3);
            }
            Assert.Equal(ChangeQueue.MaxNotFound, built.Count);
            Assert.Contains("NOTFOUND", log.Single());
            Assert.Equal(0, changes.Count);
        }

        private sealed class ListLog : IPaybridgeLog
        {
            private readonly List<string> lines;
            public ListLog(List<string> lines) { this.lines = lines; }
            public void Log(PaybridgeLogLevel level, string code, string message) => lines.Add(code + " " + message);
        }

        private sealed class Captured
        {
            public string Url, Body, ContentType, Signature, UserAgent;
        }

        private sealed class FakeHandler : HttpMessageHandler
        {
            public readonly Queue<HttpResponseMessage> Answers = new Queue<HttpResponseMessage>();
            public readonly List<Captured> Requests = new List<Captured>();

            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                byte[] body = await request.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                IEnumerable<string> values;
                Requests.Add(new Captured
                {
                    Url = request.RequestUri.ToString(),
                    Body = new UTF8Encoding(false).GetString(body),
                    ContentType = request.Content.Headers.ContentType.ToString(),
                    Signature = request.Headers.TryGetValues(EventSigner.HeaderName, out values) ? values.Single() : null,
                    UserAgent = request.Headers.TryGetValues("User-Agent", out values) ? string.Join(" ", values) : null,
                });
                return Answers.Count > 0 ? Answers.Dequeue() : new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent("{\"status\":\"accepted\"}") };
            }
        }
    }
}
