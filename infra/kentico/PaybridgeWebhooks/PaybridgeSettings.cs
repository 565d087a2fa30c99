using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Paybridge.Webhooks
{
    /// <summary>
    /// The module's configuration, read once at start-up from application settings:
    /// web.config <c>&lt;appSettings&gt;</c> in the admin app (CMSApp), appsettings.json in an
    /// ASP.NET Core live site (nested form: <c>"Paybridge": { "WebhookUrl": … }</c>).
    /// </summary>
    /// <remarks>
    /// Secrets live in application configuration, not in Kentico's settings keys
    /// (SettingsKeyInfoProvider): those sit in the CMS database, are visible to every administrator
    /// in the Settings app and travel with database backups and staging.
    /// Kentico-free: <see cref="Load"/> takes a lookup function so it can be tested alone.
    /// </remarks>
    public sealed class PaybridgeSettings
    {
        public const string EnabledKey = "Paybridge:Enabled";
        public const string WebhookUrlKey = "Paybridge:WebhookUrl";
        public const string WebhookSecretsKey = "Paybridge:WebhookSecrets";
        // Optional tuning keys; the defaults suit a shop.
        public const string TimeoutSecondsKey = "Paybridge:TimeoutSeconds";
        public const string MaxAttemptsKey = "Paybridge:MaxAttempts";
        public const string DebounceMillisecondsKey = "Paybridge:DebounceMilliseconds";
        public const string OutboxPathKey = "Paybridge:OutboxPath";
        public const string LogDeliveriesKey = "Paybridge:LogDeliveries";

        /// <summary>Shortest secret accepted; paybridge's generated secret has 48 characters.</summary>
        public const int MinSecretLength = 16;

        public bool Enabled { get; private set; }
        public Uri WebhookUrl { get; private set; }
        public IReadOnlyList<string> Secrets { get; private set; } = new string[0];
        public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(10);
        public int MaxAttempts { get; private set; } = 20;
        public TimeSpan Debounce { get; private set; } = TimeSpan.FromSeconds(2);
        public string OutboxPath { get; private set; }
        public bool LogDeliveries { get; private set; } = true;

        /// <summary>Every configuration problem, listed at once; empty when the settings are usable.</summary>
        public IReadOnlyList<string> Problems { get; private set; } = new string[0];

        public bool IsUsable => Enabled && Problems.Count == 0;

        /// <param name="read">Returns the raw value of a key, or null/empty when it is not set.</param>
        /// <param name="appRoot">Physical root of the application, for the default outbox path.</param>
        public static PaybridgeSettings Load(Func<string, string> read, string appRoot)
        {
            var s = new PaybridgeSettings();
            var problems = new List<string>();

            string enabled = Trimmed(read(EnabledKey));
            s.Enabled = enabled != null && (enabled.Equals("true", StringComparison.OrdinalIgnoreCase) || enabled == "1");
            if (!s.Enabled)
            {
                return s; // Off (the default): nothing else is read, so an unconfigured app starts quietly.
            }

            string url = Trimmed(read(WebhookUrlKey));
            Uri uri;
            if (url == null)
            {
                problems.Add(WebhookUrlKey + " is missing (the KenticoWebhookUrl stack output, …/webhooks/kentico).");
            }
            else if (!Uri.TryCreate(url, UriKind.Absolute, out uri))
            {
                problems.Add(WebhookUrlKey + " is not an absolute URL.");
            }
            else if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            {
                // Plain HTTP only to a local `paybridge serve` while developing: bodies carry
                // customer data, and an eavesdropper could replay them within the 300 s tolerance.
                problems.Add(WebhookUrlKey + " must use https:// (http:// is accepted for localhost only).");
            }
            else
            {
                s.WebhookUrl = uri;
            }

            var secrets = (read(WebhookSecretsKey) ?? string.Empty)
                .Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(x => x.Trim())
                .Where(x => x.Length > 0)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            if (secrets.Count == 0)
            {
                problems.Add(WebhookSecretsKey + " is missing (one of paybridge's KENTICO_WEBHOOK_SECRETS; two, comma-separated, while rotating).");
            }
            else if (secrets.Any(x => x.Length < MinSecretLength))
            {
                problems.Add(WebhookSecretsKey + " has a secret shorter than " + MinSecretLength + " characters.");
            }
            s.Secrets = secrets;

            s.Timeout = TimeSpan.FromSeconds(ReadInt(read, TimeoutSecondsKey, 10, 1, 60, problems));
            s.MaxAttempts = ReadInt(read, MaxAttemptsKey, 20, 1, 100, problems);
            s.Debounce = TimeSpan.FromMilliseconds(ReadInt(read, DebounceMillisecondsKey, 2000, 0, 60000, problems));

            string logDeliveries = Trimmed(read(LogDeliveriesKey));
            s.LogDeliveries = logDeliveries == null || !(logDeliveries.Equals("false", StringComparison.OrdinalIgnoreCase) || logDeliveries == "0");

            // One folder per machine: on a web farm with shared storage, servers must not send
            // (and delete) each other's files. Admin app and live site need different folders.
            string outbox = Trimmed(read(OutboxPathKey));
            if (outbox == null && string.IsNullOrEmpty(appRoot))
            {
                problems.Add(OutboxPathKey + " is missing and the application root is unknown.");
            }
            else
            {
                string root = outbox ?? System.IO.Path.Combine(appRoot, "App_Data", "Paybridge", "Outbox");
                s.OutboxPath = System.IO.Path.Combine(root, Environment.MachineName);
            }

            s.Problems = problems;
            return s;
        }

        /// <summary>A description for the event log; never includes secret material.</summary>
        public override string ToString() =>
            "URL " + WebhookUrl + ", " + Secrets.Count + " secret(s), timeout " + Timeout.TotalSeconds
            + " s, max " + MaxAttempts + " attempts, debounce " + Debounce.TotalMilliseconds + " ms, outbox " + OutboxPath;

        private static int ReadInt(Func<string, string> read, string key, int fallback, int min, int max, List<string> problems)
        {
            string raw = Trimmed(read(key));
            if (raw == null) return fallback;
            int value;
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) || value < min || value > max)
            {
                problems.Add(key + " must be a whole number from " + min + " to " + max + ".");
                return fallback;
            }
            return value;
        }

        private static string Trimmed(string value)
        {
            if (value == null) return null;
            value = value.Trim();
            return value.Length == 0 ? null : value;
        }
    }
}
