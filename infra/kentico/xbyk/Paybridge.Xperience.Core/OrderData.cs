using System;
using System.Collections.Generic;

namespace Paybridge.Xperience
{
    // Plain copies of the XbyK commerce columns the package sends (docs/CONTRACTS.md, "Xperience
    // by Kentico order object"). The Kentico-dependent project fills them from OrderInfo,
    // OrderItemInfo, OrderAddressInfo and CustomerInfo; everything after that is Kentico-free.

    /// <summary>An order (<c>OrderInfo</c>) with its items, addresses and customer.</summary>
    public sealed class OrderData
    {
        public int OrderID;
        public Guid OrderGUID;
        public string OrderNumber;
        /// <summary>Null when the order has no customer.</summary>
        public int? OrderCustomerID;
        public decimal OrderGrandTotal;
        public decimal OrderTotalPrice;
        public decimal OrderTotalTax;
        public decimal OrderTotalShipping;
        /// <summary>Null (or 0) while the order has no status.</summary>
        public int? OrderOrderStatusID;
        /// <summary>The status's code name, resolved from <see cref="OrderOrderStatusID"/>; null when none.</summary>
        public string OrderStatusName;
        /// <summary>UTC (Kind Utc or Unspecified-as-UTC; a Local value is converted).</summary>
        public DateTime OrderCreatedWhen;
        /// <summary>UTC, as <see cref="OrderCreatedWhen"/>.</summary>
        public DateTime OrderModifiedWhen;
        public List<OrderItemData> OrderItems = new List<OrderItemData>();
        public List<OrderAddressData> OrderAddresses = new List<OrderAddressData>();
        /// <summary>Null when the order has no customer.</summary>
        public CustomerData Customer;

        /// <summary>
        /// The order's <c>PaybridgeData</c> text field, or null when empty. Never sent in events;
        /// the write-back merges into it. <see cref="HasPaybridgeDataField"/> says whether the shop
        /// added the field to the order class at all.
        /// </summary>
        public string PaybridgeData;
        public bool HasPaybridgeDataField;
    }

    /// <summary>An order line (<c>OrderItemInfo</c>).</summary>
    public sealed class OrderItemData
    {
        /// <summary>The SKU text; null when the line has none.</summary>
        public string OrderItemSKU;
        public string OrderItemName;
        public decimal OrderItemQuantity;
        public decimal OrderItemUnitPrice;
        public decimal OrderItemTotalPrice;
    }

    /// <summary>An order address (<c>OrderAddressInfo</c>), country and state already resolved to codes.</summary>
    public sealed class OrderAddressData
    {
        /// <summary><c>Billing</c> or <c>Shipping</c> (any case in; sent as written here, normalized for those two).</summary>
        public string OrderAddressType;
        public string OrderAddressFirstName;
        public string OrderAddressLastName;
        public string OrderAddressCompany;
        public string OrderAddressEmail;
        public string OrderAddressPhone;
        public string OrderAddressLine1;
        public string OrderAddressLine2;
        public string OrderAddressCity;
        public string OrderAddressZip;
        /// <summary>ISO 3166 alpha-2 (<c>CountryInfo.CountryTwoLetterCode</c>).</summary>
        public string OrderAddressCountry;
        /// <summary>The state's code (<c>StateInfo.StateCode</c>); empty when none.</summary>
        public string OrderAddressState;
    }

    /// <summary>A customer (<c>CustomerInfo</c>).</summary>
    public sealed class CustomerData
    {
        public int CustomerID;
        public Guid CustomerGUID;
        public string CustomerEmail;
        public string CustomerFirstName;
        public string CustomerLastName;
        public string CustomerPhone;
    }

    /// <summary>An order status (<c>OrderStatusInfo</c>).</summary>
    public sealed class OrderStatusData
    {
        public int OrderStatusID;
        /// <summary>The code name.</summary>
        public string OrderStatusName;
        public string OrderStatusDisplayName;
    }
}
