using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

using CMS.Commerce;
using CMS.Core;
using CMS.DataEngine;
using CMS.Globalization;

namespace Paybridge.Xperience;

/// <summary>
/// <see cref="IOrderStore"/> over XbyK's commerce data, through the Info providers, so Kentico's
/// own events, notifications and cache invalidation run as for any other change.
/// </summary>
/// <remarks>
/// Compiled in the shop's solution only (see ../README.md). API names follow Kentico's
/// documentation and public XbyK code; the ones this file is least sure of are marked "VERIFY".
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
    private readonly IEventLogService eventLog;

    public KenticoOrderStore(
        IInfoProvider<OrderInfo> orders,
        IInfoProvider<OrderStatusInfo> statuses,
        IInfoProvider<OrderItemInfo> items,
        IInfoProvider<OrderAddressInfo> addresses,
        IInfoProvider<CustomerInfo> customers,
        IInfoProvider<CountryInfo> countries,
        IInfoProvider<StateInfo> states,
        IEventLogService eventLog)
    {
        this.orders = orders;
        this.statuses = statuses;
        this.items = items;
        this.addresses = addresses;
        this.customers = customers;
        this.countries = countries;
        this.states = states;
        this.eventLog = eventLog;
    }

    public async Task<IReadOnlyList<OrderStatusData>> GetStatusesAsync(CancellationToken cancellationToken)
    {
        // The admin's order: OrderStatusOrder (VERIFY: column name of the status's position), then ID.
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
        var found = await customers.Get()
            .WhereEquals(nameof(CustomerInfo.CustomerID), customerId)
            .TopN(1)
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        var customer = found.FirstOrDefault();
        return customer == null ? null : ToData(customer);
    }

    public async Task<IReadOnlyList<OrderData>> ListOrdersAsync(DateTime modifiedSinceUtc, int afterId, int limit, CancellationToken cancellationToken)
    {
        // Kentico stores date-times in the server's local time (VERIFY for your XbyK version; see
        // FromKenticoTime): compare in that time.
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
        orders.Set(order); // one save: one update event, one notification
    }

    public void Log(PaybridgeLogLevel level, string code, string message)
    {
        try
        {
            switch (level)
            {
                case PaybridgeLogLevel.Error: eventLog.LogError(LogSource, code, message); break;
                case PaybridgeLogLevel.Warning: eventLog.LogWarning(LogSource, code, message); break;
                default: eventLog.LogInformation(LogSource, code, message); break;
            }
        }
        catch
        {
            // Logging must never take a request or the sender down.
        }
    }

    private async Task<OrderInfo> GetOrderAsync(int orderId, CancellationToken cancellationToken)
    {
        var found = await orders.Get()
            .WhereEquals(nameof(OrderInfo.OrderID), orderId)
            .TopN(1)
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        return found.FirstOrDefault();
    }

    private async Task<Dictionary<int, string>> StatusNamesAsync(CancellationToken cancellationToken) =>
        (await GetStatusesAsync(cancellationToken)).ToDictionary(s => s.OrderStatusID, s => s.OrderStatusName);

    private async Task<OrderData> ToDataAsync(OrderInfo order, bool withDetails, Dictionary<int, string> statusNames, CancellationToken cancellationToken)
    {
        statusNames ??= await StatusNamesAsync(cancellationToken);
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
                // VERIFY: OrderAddressType is a string or an enum/constant class depending on the
                // version; its text is "Billing"/"Shipping" either way, which is what is sent.
                OrderAddressType = Convert.ToString(a.OrderAddressType, System.Globalization.CultureInfo.InvariantCulture),
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
        var found = await countries.Get().WhereEquals(nameof(CountryInfo.CountryID), countryId).TopN(1)
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        var country = found.FirstOrDefault();
        if (country == null) return string.Empty;
        return !string.IsNullOrWhiteSpace(country.CountryTwoLetterCode) ? country.CountryTwoLetterCode.Trim().ToUpperInvariant() : country.CountryDisplayName ?? string.Empty;
    }

    /// <summary>The state's code (<c>StateCode</c>), else its display name, else "".</summary>
    private async Task<string> StateCodeAsync(int stateId, CancellationToken cancellationToken)
    {
        if (stateId <= 0) return string.Empty;
        var found = await states.Get().WhereEquals(nameof(StateInfo.StateID), stateId).TopN(1)
            .GetEnumerableTypedResultAsync(cancellationToken: cancellationToken);
        var state = found.FirstOrDefault();
        if (state == null) return string.Empty;
        return !string.IsNullOrWhiteSpace(state.StateCode) ? state.StateCode.Trim() : state.StateDisplayName ?? string.Empty;
    }

    /// <summary>
    /// Kentico keeps date-times in the web server's local time (Kind Unspecified); the package
    /// sends UTC so the value means the same thing everywhere. VERIFY: if your XbyK version stores
    /// UTC (Kind Utc), the value is passed through unchanged.
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
