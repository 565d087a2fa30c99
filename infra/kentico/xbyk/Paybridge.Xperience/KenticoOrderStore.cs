using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

using CMS.Commerce;
using CMS.DataEngine;
using CMS.Globalization;

using Microsoft.Extensions.Logging;

namespace Paybridge.Xperience;

/// <summary>
/// <see cref="IOrderStore"/> over XbyK's commerce data, through the Info providers, so Kentico's
/// own events, notifications and cache invalidation run as for any other change.
/// </summary>
/// <remarks>
/// Compiled in the shop's solution only (see ../README.md, section 9). Checked against Kentico's
/// documentation and Kentico's own XbyK code, not compiled here:
/// <list type="bullet">
/// <item><c>IInfoProvider&lt;T&gt;.Get()…WhereEquals/TopN/OrderBy…GetEnumerableTypedResultAsync</c>,
/// <c>GetAsync(id, token)</c>, <c>SetAsync(info, token)</c>, and setting <c>OrderOrderStatusID</c>
/// to change an order's status with the usual notifications: docs.kentico.com
/// "Checkout process" → "Automatically change status of orders".</item>
/// <item>Tables and columns (<c>Commerce_Order</c>: <c>OrderGUID</c>, <c>OrderNumber</c>,
/// <c>OrderCreatedWhen</c>, <c>OrderModifiedWhen</c>, <c>OrderOrderStatusID</c>, <c>OrderCustomerID</c>,
/// <c>OrderTotalPrice/TotalTax/TotalShipping/GrandTotal</c>; <c>Commerce_OrderItem</c>:
/// <c>OrderItemSKU</c>, <c>OrderItemName</c>, <c>OrderItemQuantity</c> (decimal),
/// <c>OrderItemUnitPrice</c>, <c>OrderItemTotalPrice</c>; <c>Commerce_OrderStatus</c>:
/// <c>OrderStatusName</c>, <c>OrderStatusDisplayName</c>, <c>OrderStatusOrder</c>;
/// <c>Commerce_OrderAddress</c>: <c>OrderAddressType</c>, <c>OrderAddressCountryID</c>,
/// <c>OrderAddressStateID</c>; <c>Commerce_Customer</c>: <c>CustomerGUID</c>…; <c>CMS_Country.CountryTwoLetterCode</c>,
/// <c>CMS_State.StateCode</c> in <c>CMS.Globalization</c>): Kentico/xperience-by-kentico-admin-stats
/// (XbyK 31.9.0), .agent-resources/REPORT-07-COMMERCE-ORDERS.md, seed-commerce-orders.sql and
/// src/Kentico.Xperience.AdminStats/Reports/Customers/CustomersSql.cs.</item>
/// <item>Logging through <c>ILogger</c> (the XperienceEventLog provider), not the deprecated
/// <c>IEventLogService</c>: docs.kentico.com "Logging".</item>
/// </list>
/// What remains unconfirmed is marked "VERIFY".
/// </remarks>
public sealed class KenticoOrderStore : IOrderStore
{
    /// <summary>Event log source of everything the package logs.</summary>
    public const string LogSource = "Paybridge";

    private readonly IInfoProvider<OrderInfo> orders;
    private readonly IInfoProvider<OrderStatusInfo> statuses;
    private readonly IInfoProvider<OrderItemInfo> items;
    private readonly IInfoProvider<OrderAddressInfo> addresses;
    private readonly IInfoProvider<CustomerInfo> customers;
    private readonly IInfoProvider<CountryInfo> countries;
    private readonly IInfoProvider<StateInfo> states;
    private readonly ILogger log;

    public KenticoOrderStore(
        IInfoProvider<OrderInfo> orders,
        IInfoProvider<OrderStatusInfo> statuses,
        IInfoProvider<OrderItemInfo> items,
        IInfoProvider<OrderAddressInfo> addresses,
        IInfoProvider<CustomerInfo> customers,
        IInfoProvider<CountryInfo> countries,
        IInfoProvider<StateInfo> states,
        ILoggerFactory loggers)
    {
        this.orders = orders;
        this.statuses = statuses;
        this.items = items;
        this.addresses = addresses;
        this.customers = customers;
        this.countries = countries;
        this.states = states;
        // Category "Paybridge": the Source of the entries in Xperience's event log. Information
        // entries need "Logging:XperienceEventLog:LogLevel:Paybridge": "Information" (README).
        log = loggers.CreateLogger(LogSource);
    }

    public async Task<IReadOnlyList<OrderStatusData>> GetStatusesAsync(CancellationToken cancellationToken)
    {
        // The admin's order: OrderStatusOrder, then ID (as Kentico's admin-stats reads them).
        var list = await statuses.Get()
            .OrderBy("OrderStatusOrder", nameof(OrderStatusInfo.OrderStatusID))
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        return list.Select(s => new OrderStatusData
        {
            OrderStatusID = s.OrderStatusID,
            OrderStatusName = s.OrderStatusName,
            OrderStatusDisplayName = s.OrderStatusDisplayName,
        }).ToList();
    }

    public async Task<OrderData> FindOrderAsync(Guid orderGuid, bool withDetails, CancellationToken cancellationToken)
    {
        var found = await orders.Get()
            .WhereEquals(nameof(OrderInfo.OrderGUID), orderGuid)
            .TopN(1)
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        var order = found.FirstOrDefault();
        return order == null ? null : await ToDataAsync(order, withDetails, null, cancellationToken);
    }

    /// <summary>The order with this ID and its details, for an event; null when it does not exist (yet).</summary>
    public async Task<OrderData> LoadOrderAsync(int orderId, CancellationToken cancellationToken)
    {
        var order = await GetOrderAsync(orderId, cancellationToken);
        return order == null ? null : await ToDataAsync(order, true, null, cancellationToken);
    }

    /// <summary>The customer with this ID, for an event; null when it does not exist.</summary>
    public async Task<CustomerData> LoadCustomerAsync(int customerId, CancellationToken cancellationToken)
    {
        if (customerId <= 0) return null;
        var customer = await customers.GetAsync(customerId, cancellationToken);
        return customer == null ? null : ToData(customer);
    }

    public async Task<IReadOnlyList<OrderData>> ListOrdersAsync(DateTime modifiedSinceUtc, int afterId, int limit, CancellationToken cancellationToken)
    {
        // Order date-times are stored in the server's local time (see FromKenticoTime): compare in that time.
        var page = await orders.Get()
            .WhereGreaterOrEquals(nameof(OrderInfo.OrderModifiedWhen), ToKenticoTime(modifiedSinceUtc))
            .WhereGreaterThan(nameof(OrderInfo.OrderID), afterId)
            .OrderBy(nameof(OrderInfo.OrderID))
            .TopN(limit)
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        var statusNames = await StatusNamesAsync(cancellationToken);
        var result = new List<OrderData>();
        foreach (var order in page)
        {
            result.Add(await ToDataAsync(order, true, statusNames, cancellationToken));
        }
        return result;
    }

    public async Task UpdateOrderAsync(OrderUpdate update, CancellationToken cancellationToken)
    {
        var order = await GetOrderAsync(update.OrderID, cancellationToken)
            ?? throw new InvalidOperationException("Order " + update.OrderID + " disappeared before it could be written.");
        if (update.NewStatusID.HasValue)
        {
            // Through the provider, as the admin does, so Kentico's order status notifications fire.
            order.OrderOrderStatusID = update.NewStatusID.Value;
        }
        if (update.NewPaybridgeData != null)
        {
            order.SetValue(PaybridgeData.FieldName, update.NewPaybridgeData);
        }
        // One save: one update event, one notification. Not cancelled once begun (as Kentico's
        // Dancing Goat does for writes): a client that hangs up must not cut a save short.
        await orders.SetAsync(order, CancellationToken.None);
    }

    public void Log(PaybridgeLogLevel level, string code, string message)
    {
        var logLevel = level == PaybridgeLogLevel.Error ? LogLevel.Error
            : level == PaybridgeLogLevel.Warning ? LogLevel.Warning
            : LogLevel.Information;
        try
        {
            // EventId's name is the entry's Event code; the text goes in as an argument, never as
            // the template, so braces in it (JSON, exception text) are not read as placeholders.
            log.Log(logLevel, new EventId(0, code), "{PaybridgeMessage}", message);
        }
        catch (Exception)
        {
            // IPaybridgeLog.Log must never throw (a failing provider must not take a request or
            // the sender down); there is nowhere left to report it.
        }
    }

    private async Task<OrderInfo> GetOrderAsync(int orderId, CancellationToken cancellationToken)
    {
        return orderId <= 0 ? null : await orders.GetAsync(orderId, cancellationToken);
    }

    private async Task<Dictionary<int, string>> StatusNamesAsync(CancellationToken cancellationToken) =>
        (await GetStatusesAsync(cancellationToken)).ToDictionary(s => s.OrderStatusID, s => s.OrderStatusName);

    private async Task<OrderData> ToDataAsync(OrderInfo order, bool withDetails, Dictionary<int, string> statusNames, CancellationToken cancellationToken)
    {
        statusNames ??= await StatusNamesAsync(cancellationToken);
        // VERIFY: BaseInfo's data-container members ContainsColumn/GetValue/SetValue (Kentico's
        // Info API since Kentico 8, also used by Kentico's own wrappers); no XbyK docs page shows
        // them for a custom field added to a system class (docs "Checkout process": all commerce
        // objects "can be extended by adding custom fields").
        bool hasField = order.ContainsColumn(PaybridgeData.FieldName);
        var data = new OrderData
        {
            OrderID = order.OrderID,
            OrderGUID = order.OrderGUID,
            OrderNumber = order.OrderNumber,
            OrderCustomerID = order.OrderCustomerID > 0 ? order.OrderCustomerID : null,
            OrderGrandTotal = order.OrderGrandTotal,
            OrderTotalPrice = order.OrderTotalPrice,
            OrderTotalTax = order.OrderTotalTax,
            OrderTotalShipping = order.OrderTotalShipping,
            OrderOrderStatusID = order.OrderOrderStatusID > 0 ? order.OrderOrderStatusID : null,
            OrderStatusName = statusNames.TryGetValue(order.OrderOrderStatusID, out var name) ? name : null,
            OrderCreatedWhen = FromKenticoTime(order.OrderCreatedWhen),
            OrderModifiedWhen = FromKenticoTime(order.OrderModifiedWhen),
            HasPaybridgeDataField = hasField,
            PaybridgeData = hasField ? order.GetValue(PaybridgeData.FieldName) as string : null,
        };
        if (!withDetails) return data;

        var lines = await items.Get()
            .WhereEquals(nameof(OrderItemInfo.OrderItemOrderID), order.OrderID)
            .OrderBy(nameof(OrderItemInfo.OrderItemID))
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        data.OrderItems = lines.Select(i => new OrderItemData
        {
            OrderItemSKU = i.OrderItemSKU,
            OrderItemName = i.OrderItemName,
            OrderItemQuantity = i.OrderItemQuantity,
            OrderItemUnitPrice = i.OrderItemUnitPrice,
            OrderItemTotalPrice = i.OrderItemTotalPrice,
        }).ToList();

        var orderAddresses = await addresses.Get()
            .WhereEquals(nameof(OrderAddressInfo.OrderAddressOrderID), order.OrderID)
            .OrderBy(nameof(OrderAddressInfo.OrderAddressID))
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        foreach (var a in orderAddresses)
        {
            data.OrderAddresses.Add(new OrderAddressData
            {
                // The stored name ("billing"/"shipping": OrderAddressType.Billing.Name / .Shipping.Name
                // in 31.x, where the property is of the OrderAddressType class; a plain string in
                // earlier previews), read from the column so it compiles either way. The core
                // sends it as "Billing"/"Shipping".
                OrderAddressType = Convert.ToString(a.GetValue(nameof(OrderAddressInfo.OrderAddressType)), System.Globalization.CultureInfo.InvariantCulture),
                OrderAddressFirstName = a.OrderAddressFirstName,
                OrderAddressLastName = a.OrderAddressLastName,
                OrderAddressCompany = a.OrderAddressCompany,
                OrderAddressEmail = a.OrderAddressEmail,
                OrderAddressPhone = a.OrderAddressPhone,
                OrderAddressLine1 = a.OrderAddressLine1,
                OrderAddressLine2 = a.OrderAddressLine2,
                OrderAddressCity = a.OrderAddressCity,
                OrderAddressZip = a.OrderAddressZip,
                OrderAddressCountry = await CountryCodeAsync(a.OrderAddressCountryID, cancellationToken),
                OrderAddressState = await StateCodeAsync(a.OrderAddressStateID, cancellationToken),
            });
        }

        if (order.OrderCustomerID > 0)
        {
            data.Customer = await LoadCustomerAsync(order.OrderCustomerID, cancellationToken);
        }
        return data;
    }

    private static CustomerData ToData(CustomerInfo c) => new CustomerData
    {
        CustomerID = c.CustomerID,
        CustomerGUID = c.CustomerGUID,
        CustomerEmail = c.CustomerEmail,
        CustomerFirstName = c.CustomerFirstName,
        CustomerLastName = c.CustomerLastName,
        CustomerPhone = c.CustomerPhone,
    };

    /// <summary>ISO 3166 alpha-2 of the country (<c>CountryTwoLetterCode</c>), else its display name, else "".</summary>
    private async Task<string> CountryCodeAsync(int countryId, CancellationToken cancellationToken)
    {
        if (countryId <= 0) return string.Empty;
        var country = await countries.GetAsync(countryId, cancellationToken);
        if (country == null) return string.Empty;
        return !string.IsNullOrWhiteSpace(country.CountryTwoLetterCode) ? country.CountryTwoLetterCode.Trim().ToUpperInvariant() : country.CountryDisplayName ?? string.Empty;
    }

    /// <summary>The state's code (<c>StateCode</c>), else its display name, else "".</summary>
    private async Task<string> StateCodeAsync(int stateId, CancellationToken cancellationToken)
    {
        if (stateId <= 0) return string.Empty;
        var state = await states.GetAsync(stateId, cancellationToken);
        if (state == null) return string.Empty;
        return !string.IsNullOrWhiteSpace(state.StateCode) ? state.StateCode.Trim() : state.StateDisplayName ?? string.Empty;
    }

    /// <summary>
    /// Order date-times are kept in the web server's local time (<c>datetime2</c>, read back with
    /// Kind Unspecified): Kentico's own XbyK samples write <c>OrderCreatedWhen = DateTime.Now</c>
    /// and seed with SQL <c>GETDATE()</c>, as Kentico 13 stored all dates in the server's time zone.
    /// The package sends UTC so the value means the same thing everywhere. VERIFY (no XbyK
    /// documentation page states it): if a value comes back with Kind Utc it is passed through.
    /// </summary>
    internal static DateTime FromKenticoTime(DateTime value)
    {
        if (value == DateTime.MinValue || value.Kind == DateTimeKind.Utc) return DateTime.SpecifyKind(value, DateTimeKind.Utc);
        try
        {
            return TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(value, DateTimeKind.Unspecified), TimeZoneInfo.Local);
        }
        catch (ArgumentException)
        {
            // A wall-clock time skipped by a daylight-saving change: never fail over a timestamp.
            return DateTime.SpecifyKind(value, DateTimeKind.Local).ToUniversalTime();
        }
    }

    private static DateTime ToKenticoTime(DateTime utc) =>
        DateTime.SpecifyKind(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), TimeZoneInfo.Local), DateTimeKind.Unspecified);
}
