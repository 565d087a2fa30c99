using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Paybridge.Xperience
{
    /// <summary>
    /// The package's configuration, read once at start-up from the app's configuration
    /// (appsettings.json <c>"Paybridge": { … }</c>, environment variables <c>Paybridge__WebhookUrl</c>, …).
    /// </summary>
    /// <remarks>
    /// Secrets belong in application configuration or a secret store, not in Kentico settings
    /// keys (those sit in the database, visible to administrators and copied with backups).
    /// Kentico-free: <see cref="Load"/> takes a lookup function so it can be tested alone, and
    /// lists every problem at once.
    /// </remarks>
    public sealed class PaybridgeSettings
    {
        public const string WebhookUrlKey = "Paybridge:WebhookUrl";
        public const string WebhookSecretsKey = "Paybridge:WebhookSecrets";
        public const string ApiSecretsKey = "Paybridge:ApiSecrets";
        public const string CurrencyKey = "Paybridge:Currency";
        public const string SiteKey = "Paybridge:Site";
        public const string TimeoutSecondsKey = "Paybridge:TimeoutSeconds";
        public const string MaxAttemptsKey = "Paybridge:MaxAttempts";
        public const string OutboxPathKey = "Paybridge:OutboxPath";

        /// <summary>Shortest secret accepted; paybridge's generated secret has 48 characters.</summary>
        public const int MinSecretLength = 16;

        private PaybridgeSettings() { }

        /// <summary>Where events are POSTed: paybridge's <c>…/webhooks/kentico</c>.</summary>
        public Uri WebhookUrl { get; private set; }

        /// <summary>
        /// <c>Paybridge:WebhookSecrets</c>: all sign the events (one <c>v1</c> each); they also verify
        /// paybridge's requests unless <see cref="ApiSecrets"/> is set.
        /// </summary>
        public IReadOnlyList<string> Secrets { get; private set; } = new string[0];

        /// <summary>
        /// <c>Paybridge:ApiSecrets</c>, optional (empty when not set): when set, paybridge's requests to
        /// the four routes are verified against these only (paybridge's <c>KENTICO_API_SECRET</c>).
        /// Never used to sign events.
        /// </summary>
        public IReadOnlyList<string> ApiSecrets { get; private set; } = new string[0];

        /// <summary>The secrets that verify paybridge's requests: <see cref="ApiSecrets"/> when set, else <see cref="Secrets"/>.</summary>
        public IReadOnlyList<string> RequestSecrets => ApiSecrets.Count > 0 ? ApiSecrets : Secrets;

        /// <summary>ISO 4217, upper-case, or null: when set, orders carry <c>OrderCurrencyCode</c>.</summary>
        public string Currency { get; private set; }

        /// <summary>The event's <c>site</c>: <c>Paybridge:Site</c>, else the default given to <see cref="Load"/>.</summary>
        public string Site { get; private set; }

        public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(10);
        public int MaxAttempts { get; private set; } = 20;
        public string OutboxPath { get; private set; }

        /// <summary>Every configuration problem, listed at once; empty when the settings are usable.</summary>
        public IReadOnlyList<string> Problems { get; private set; } = new string[0];

        public bool IsUsable => Problems.Count == 0;

        /// <param name="read">Returns the raw value of a key (<c>Paybridge:WebhookUrl</c>, …), or null/empty when not set.</param>
        /// <param name="defaultSite">The event's <c>site</c> when <c>Paybridge:Site</c> is not set (the app or channel name).</param>
        /// <param name="appRoot">The app's content root, for the default outbox folder.</param>
        public static PaybridgeSettings Load(Func<string, string> read, string defaultSite, string appRoot)
        {
            if (read == null) throw new ArgumentNullException(nameof(read));
            var s = new PaybridgeSettings();
            var problems = new List<string>();

            string url = Trimmed(read(WebhookUrlKey));
            Uri uri;
            if (url == null)
            {
                problems.Add(WebhookUrlKey + " is missing (the KenticoWebhookUrl stack output, …/webhooks/kentico).");
            }
            else if (!Uri.TryCreate(url, UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                problems.Add(WebhookUrlKey + " is not an absolute http(s) URL.");
            }
            else if (uri.Scheme != Uri.UriSchemeHttps && !uri.IsLoopback)
            {
                // Plain HTTP only to a local `paybridge serve`: bodies carry customer data, and an
                // eavesdropper could replay them within the 300 s tolerance.
                problems.Add(WebhookUrlKey + " must use https:// (http:// is accepted for localhost only).");
            }
            else
            {
                s.WebhookUrl = uri;
            }

            var secrets = SplitSecrets(read(WebhookSecretsKey));
            if (secrets.Count == 0)
            {
                problems.Add(WebhookSecretsKey + " is missing (paybridge's KENTICO_WEBHOOK_SECRETS; two, comma-separated, while rotating).");
            }
            else if (secrets.Any(x => x.Length < MinSecretLength))
            {
                problems.Add(WebhookSecretsKey + " has a secret shorter than " + MinSecretLength + " characters.");
            }
            s.Secrets = secrets;

            // Optional: a separate secret for paybridge's requests (its KENTICO_API_SECRET). Blank
            // means not set; a value that holds no secret (only commas) is a mistake, not "not set".
            string rawApi = Trimmed(read(ApiSecretsKey));
            if (rawApi != null)
            {
                var apiSecrets = SplitSecrets(rawApi);
                if (apiSecrets.Count == 0)
                {
                    problems.Add(ApiSecretsKey + " holds no secret (leave it unset to verify paybridge's requests with " + WebhookSecretsKey + ").");
                }
                else if (apiSecrets.Any(x => x.Length < MinSecretLength))
                {
                    problems.Add(ApiSecretsKey + " has a secret shorter than " + MinSecretLength + " characters.");
                }
                s.ApiSecrets = apiSecrets;
            }

            string currency = Trimmed(read(CurrencyKey));
            if (currency != null)
            {
                if (currency.Length == 3 && currency.All(c => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                {
                    s.Currency = currency.ToUpperInvariant();
                }
                else
                {
                    problems.Add(CurrencyKey + " must be an ISO 4217 code of three letters (e.g. USD, EUR).");
                }
            }

            s.Site = Trimmed(read(SiteKey)) ?? Trimmed(defaultSite);

            s.Timeout = TimeSpan.FromSeconds(ReadInt(read, TimeoutSecondsKey, 10, 1, 60, problems));
            s.MaxAttempts = ReadInt(read, MaxAttemptsKey, 20, 1, 100, problems);

            // One folder per machine: on a web farm with shared storage, servers must not send
            // (and delete) each other's files.
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

        /// <summary>A description for the log; never includes secret material.</summary>
        public override string ToString() =>
            "URL " + WebhookUrl + ", " + Secrets.Count + " secret(s), requests verified with "
            + (ApiSecrets.Count > 0 ? ApiSecrets.Count + " API secret(s)" : "the webhook secret(s)") + ", currency " + (Currency ?? "(none)")
            + ", site " + (Site ?? "(none)") + ", timeout " + Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)
            + " s, max " + MaxAttempts + " attempts, outbox " + OutboxPath;

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

        private static List<string> SplitSecrets(string raw) =>
            (raw ?? string.Empty)
                .Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(x => x.Trim())
                .Where(x => x.Length > 0)
                .Distinct(StringComparer.Ordinal)
                .ToList();

        private static string Trimmed(string value)
        {
            if (value == null) return null;
            value = value.Trim();
            return value.Length == 0 ? null : value;
        }
    }
}
