using System;
using System.Collections.Generic;
using System.Linq;

using Paybridge.Xperience;

using Xunit;

namespace Paybridge.Xperience.Tests
{
    public class SettingsTests
    {
        private const string Url = "https://abc123xyz0.execute-api.eu-west-1.amazonaws.com/webhooks/kentico";

        /// <summary>A separate secret for paybridge's requests (paybridge's KENTICO_API_SECRET), 48 characters.</summary>
        internal const string ApiSecret = "Zt5pQ8wE1rY4uI7oA0sD3fG6hJ9kL2xC5vB8nM1qW4eR7tY0";
        internal const string NextApiSecret = "Mk3jH6gF9dS2aP5oI8uY1tR4eW7qZ0xC3vB6nM9lK2jH5gF8";

        private static PaybridgeSettings Load(Dictionary<string, string> values, string defaultSite = "DancingGoat", string appRoot = "/srv/shop")
        {
            return PaybridgeSettings.Load(k => values.TryGetValue(k, out var v) ? v : null, defaultSite, appRoot);
        }

        [Fact]
        public void TheTwoRequiredSettingsAreEnough()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
            });
            Assert.True(s.IsUsable, string.Join(" ", s.Problems));
            Assert.Equal(Url, s.WebhookUrl.ToString());
            Assert.Equal(new[] { SignatureTests.Secret }, s.Secrets.ToArray());
            Assert.Empty(s.ApiSecrets);
            Assert.Equal(new[] { SignatureTests.Secret }, s.RequestSecrets.ToArray()); // requests: the webhook secrets
            Assert.Null(s.Currency);
            Assert.Equal("DancingGoat", s.Site);
            Assert.Equal(10.0, s.Timeout.TotalSeconds);
            Assert.Equal(20, s.MaxAttempts);
            Assert.Equal(System.IO.Path.Combine("/srv/shop", "App_Data", "Paybridge", "Outbox", Environment.MachineName), s.OutboxPath);
            Assert.DoesNotContain(SignatureTests.Secret, s.ToString());
        }

        [Fact]
        public void OptionalSettingsAreRead()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, "http://127.0.0.1:9000/lambda-url/kentico-webhook/" },
                { PaybridgeSettings.WebhookSecretsKey, " " + SignatureTests.Secret + " , " + SignatureTests.NextSecret + ", " },
                { PaybridgeSettings.CurrencyKey, " eur " },
                { PaybridgeSettings.SiteKey, "Shop" },
                { PaybridgeSettings.TimeoutSecondsKey, "15" },
                { PaybridgeSettings.MaxAttemptsKey, "5" },
                { PaybridgeSettings.OutboxPathKey, "/var/paybridge" },
            });
            Assert.True(s.IsUsable, string.Join(" ", s.Problems));
            Assert.Equal(new[] { SignatureTests.Secret, SignatureTests.NextSecret }, s.Secrets.ToArray());
            Assert.Equal("EUR", s.Currency);
            Assert.Equal("Shop", s.Site);
            Assert.Equal(15.0, s.Timeout.TotalSeconds);
            Assert.Equal(5, s.MaxAttempts);
            Assert.Equal(System.IO.Path.Combine("/var/paybridge", Environment.MachineName), s.OutboxPath);
        }

        [Fact]
        public void NothingConfiguredListsBothRequiredSettings()
        {
            var s = Load(new Dictionary<string, string>());
            Assert.False(s.IsUsable);
            Assert.Equal(2, s.Problems.Count);
            Assert.Contains("Paybridge:WebhookUrl is missing", s.Problems[0]);
            Assert.Contains("Paybridge:WebhookSecrets is missing", s.Problems[1]);
        }

        [Theory]
        [InlineData("not a url", "is not an absolute http(s) URL")]
        [InlineData("ftp://example.com/webhooks/kentico", "is not an absolute http(s) URL")]
        [InlineData("/webhooks/kentico", "is not an absolute http(s) URL")]
        [InlineData("http://paybridge.example.com/webhooks/kentico", "must use https://")]
        public void BadUrlsAreRefused(string url, string problem)
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
            });
            Assert.Contains(problem, Assert.Single(s.Problems));
        }

        [Fact]
        public void ShortSecretIsRefused()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret + ",0123456789abcde" },
            });
            Assert.Contains("shorter than 16 characters", Assert.Single(s.Problems));
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        public void AbsentApiSecretsMeanTheWebhookSecretsVerifyRequests(string apiSecrets)
        {
            var values = new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret + "," + SignatureTests.NextSecret },
            };
            if (apiSecrets != null) values.Add(PaybridgeSettings.ApiSecretsKey, apiSecrets);
            var s = Load(values);
            Assert.True(s.IsUsable, string.Join(" ", s.Problems));
            Assert.Empty(s.ApiSecrets);
            Assert.Equal(new[] { SignatureTests.Secret, SignatureTests.NextSecret }, s.RequestSecrets.ToArray());
            Assert.Contains("requests verified with the webhook secret(s)", s.ToString());
        }

        [Fact]
        public void ApiSecretsAloneVerifyRequestsWhenSet()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
                { PaybridgeSettings.ApiSecretsKey, " " + ApiSecret + " , " + NextApiSecret + ", " + ApiSecret },
            });
            Assert.True(s.IsUsable, string.Join(" ", s.Problems));
            Assert.Equal(new[] { ApiSecret, NextApiSecret }, s.ApiSecrets.ToArray());
            Assert.Equal(new[] { ApiSecret, NextApiSecret }, s.RequestSecrets.ToArray());
            Assert.Equal(new[] { SignatureTests.Secret }, s.Secrets.ToArray()); // events are still signed with these
            string text = s.ToString();
            Assert.Contains("1 secret(s), requests verified with 2 API secret(s)", text);
            Assert.DoesNotContain(ApiSecret, text);
            Assert.DoesNotContain(SignatureTests.Secret, text);
        }

        [Fact]
        public void ShortApiSecretIsRefused()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
                { PaybridgeSettings.ApiSecretsKey, ApiSecret + ",0123456789abcde" },
            });
            Assert.False(s.IsUsable);
            Assert.Equal(PaybridgeSettings.ApiSecretsKey + " has a secret shorter than 16 characters.", Assert.Single(s.Problems));
        }

        [Fact]
        public void ApiSecretsWithoutASecretAreRefused()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
                { PaybridgeSettings.ApiSecretsKey, " , ," },
            });
            Assert.False(s.IsUsable);
            Assert.Contains(PaybridgeSettings.ApiSecretsKey + " holds no secret", Assert.Single(s.Problems));
        }

        [Fact]
        public void ApiSecretsDoNotReplaceTheRequiredWebhookSecrets()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.ApiSecretsKey, ApiSecret },
            });
            Assert.False(s.IsUsable);
            Assert.Contains("Paybridge:WebhookSecrets is missing", Assert.Single(s.Problems));
        }

        [Theory]
        [InlineData("US")]
        [InlineData("EURO")]
        [InlineData("E1R")]
        [InlineData("€UR")]
        public void BadCurrencyIsRefused(string currency)
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, Url },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret },
                { PaybridgeSettings.CurrencyKey, currency },
            });
            Assert.Contains("ISO 4217", Assert.Single(s.Problems));
        }

        [Fact]
        public void EveryProblemIsListedAtOnce()
        {
            var s = Load(new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, "http://paybridge.example.com/webhooks/kentico" },
                { PaybridgeSettings.WebhookSecretsKey, "short" },
                { PaybridgeSettings.ApiSecretsKey, "tiny" },
                { PaybridgeSettings.CurrencyKey, "dollars" },
                { PaybridgeSettings.TimeoutSecondsKey, "0" },
                { PaybridgeSettings.MaxAttemptsKey, "many" },
            }, null, null);
            Assert.False(s.IsUsable);
            Assert.Equal(7, s.Problems.Count);
            string all = string.Join("\n", s.Problems);
            Assert.Contains(PaybridgeSettings.WebhookUrlKey, all);
            Assert.Contains(PaybridgeSettings.WebhookSecretsKey, all);
            Assert.Contains(PaybridgeSettings.ApiSecretsKey + " has a secret shorter than 16 characters", all);
            Assert.Contains(PaybridgeSettings.CurrencyKey, all);
            Assert.Contains(PaybridgeSettings.TimeoutSecondsKey + " must be a whole number from 1 to 60", all);
            Assert.Contains(PaybridgeSettings.MaxAttemptsKey + " must be a whole number from 1 to 100", all);
            Assert.Contains(PaybridgeSettings.OutboxPathKey + " is missing and the application root is unknown", all);
            Assert.DoesNotContain("short", all.Replace("shorter", ""));
            Assert.DoesNotContain("tiny", all);
        }
    }
}
