using System;

using CMS;
using CMS.Base;
using CMS.Core;
using CMS.DataEngine;
using CMS.Ecommerce;
using CMS.SiteProvider;

using Paybridge.Webhooks;

// Registers the module; Kentico calls OnInit once when the application starts. The assembly must
// also carry [assembly: AssemblyDiscoverable] (the .csproj adds it; Old_App_Code already has it).
[assembly: RegisterModule(typeof(PaybridgeWebhooksModule))]

namespace Paybridge.Webhooks
{
    /// <summary>
    /// Kentico has no outbound webhooks: this code-only module hooks order and customer saves and
    /// hands them to <see cref="WebhookSender"/>, which POSTs signed events to paybridge's
    /// <c>POST /webhooks/kentico</c> (docs/CONTRACTS.md, Webhook endpoints and signatures).
    /// </summary>
    /// <remarks>
    /// Install it in every Kentico application that saves orders or customers: the admin app
    /// (staff edits, and paybridge's own REST writes) and the live site (checkout). Object events
    /// fire only in the process that made the change.
    /// Handlers run inside Kentico's save (often inside its transaction): they only enqueue a
    /// notice, never query, build or send, and never throw, so they cannot slow down or break a
    /// checkout.
    /// </remarks>
    public class PaybridgeWebhooksModule : Module
    {
        public PaybridgeWebhooksModule()
            : base("Paybridge.Webhooks") // code-only module: any name not used by a real module
        {
        }

        protected override void OnInit()
        {
            base.OnInit();

            PaybridgeSettings settings;
            try
            {
                var appSettings = Service.Resolve<IAppSettingsService>();
                settings = PaybridgeSettings.Load(key => appSettings[key], SystemContext.WebApplicationPhysicalPath);
            }
            catch (Exception ex)
            {
                WebhookSender.Log(EventTypeEnum.Error, "CONFIG", "Paybridge webhooks are off: the settings could not be read. " + ex);
                return;
            }

            if (!settings.Enabled)
            {
                return;
            }
            if (!settings.IsUsable)
            {
                // One entry listing every problem, like paybridge's own start-up check.
                WebhookSender.Log(EventTypeEnum.Error, "CONFIG",
                    "Paybridge webhooks are off until the configuration is fixed: " + string.Join(" ", settings.Problems));
                return;
            }

            WebhookSender.Configure(settings);

            OrderInfo.TYPEINFO.Events.Insert.After += OrderInserted;
            OrderInfo.TYPEINFO.Events.Update.After += OrderUpdated;
            CustomerInfo.TYPEINFO.Events.Insert.After += CustomerInserted;
            CustomerInfo.TYPEINFO.Events.Update.After += CustomerUpdated;
            // Raised by checkout after its transaction commits: the order is complete (items,
            // addresses, first status) and visible to other connections. See WebhookSender.
            EcommerceEvents.NewOrderCreated.Execute += NewOrderCreated;

            // Start now rather than on the first change, to deliver what a previous run left in the outbox.
            WebhookSender.Current.EnsureRunningThread();
            WebhookSender.Log(EventTypeEnum.Information, "STARTED", "Paybridge webhooks are on: " + settings);
        }

        private static void OrderInserted(object sender, ObjectEventArgs e) => Notify(ObjectKind.Order, (e.Object as OrderInfo)?.OrderID, inserted: true);

        private static void OrderUpdated(object sender, ObjectEventArgs e) => Notify(ObjectKind.Order, (e.Object as OrderInfo)?.OrderID, inserted: false);

        private static void CustomerInserted(object sender, ObjectEventArgs e) => Notify(ObjectKind.Customer, (e.Object as CustomerInfo)?.CustomerID, inserted: true);

        private static void CustomerUpdated(object sender, ObjectEventArgs e) => Notify(ObjectKind.Customer, (e.Object as CustomerInfo)?.CustomerID, inserted: false);

        private static void NewOrderCreated(object sender, NewOrderCreatedEventArgs e) =>
            Notify(ObjectKind.Order, e.NewOrder?.OrderID, inserted: true, committed: true);

        private static void Notify(ObjectKind kind, int? objectId, bool inserted, bool committed = false)
        {
            try
            {
                if (objectId == null || objectId.Value <= 0)
                {
                    return;
                }

                WebhookSender.Current.Enqueue(new ChangeNotice
                {
                    Kind = kind,
                    ObjectId = objectId.Value,
                    Inserted = inserted,
                    Committed = committed,
                    // Captured here because the worker thread has no request context.
                    RequestSite = kind == ObjectKind.Customer ? SiteContext.CurrentSiteName : null,
                });
            }
            catch (Exception ex)
            {
                // An exception from an After handler would fail (and roll back) the shop's save.
                WebhookSender.Log(EventTypeEnum.Error, "HANDLER", "Could not queue the " + kind + " " + objectId + " change: " + ex);
            }
        }
    }
}
