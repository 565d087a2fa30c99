using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

using CMS.Commerce;
using CMS.Core;       // AddInfoObjectEventHandler: the docs' registration sample imports CMS.Core and CMS.DataEngine
using CMS.DataEngine;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Paybridge.Xperience;

/// <summary>
/// <c>builder.Services.AddPaybridge(builder.Configuration)</c> and <c>app.MapPaybridge()</c>:
/// everything the shop's Program.cs needs.
/// </summary>
public static class PaybridgeServiceCollectionExtensions
{
    /// <summary>Name of the <see cref="System.Net.Http.HttpClient"/> that posts events to paybridge.</summary>
    public const string HttpClientName = "Paybridge";

    /// <summary>
    /// Registers the settings (validated at start-up: a wrong setting stops the app with every
    /// problem listed), the order store, the routes' logic, the object event handlers for
    /// <c>OrderInfo</c> and <c>CustomerInfo</c>, and the background sender.
    /// </summary>
    public static IServiceCollection AddPaybridge(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddSingleton(sp =>
        {
            var env = sp.GetRequiredService<IHostEnvironment>();
            var settings = PaybridgeSettings.Load(key => configuration[key], env.ApplicationName, env.ContentRootPath);
            if (!settings.IsUsable)
            {
                throw new InvalidOperationException("Paybridge is not configured correctly (appsettings.json \"Paybridge\" section, see the package's README): "
                    + string.Join(" ", settings.Problems));
            }
            return settings;
        });

        services.AddSingleton<ChangeQueue>();
        services.AddSingleton<PaybridgeOrderEvents>();
        services.AddSingleton<KenticoOrderStore>();
        services.AddSingleton<IOrderStore>(sp => sp.GetRequiredService<KenticoOrderStore>());
        // The routes verify paybridge's requests with settings.RequestSecrets: Paybridge:ApiSecrets
        // when set, else Paybridge:WebhookSecrets. The sender signs events with Paybridge:WebhookSecrets only.
        services.AddSingleton(sp => new PaybridgeEndpoints(sp.GetRequiredService<IOrderStore>(), sp.GetRequiredService<PaybridgeSettings>()));

        // Timeouts come from Paybridge:TimeoutSeconds per request, so the client's own is off. The
        // sender keeps its one client for the app's lifetime, so the factory's handler rotation
        // never happens: connections are recycled by the handler itself instead (DNS changes of
        // paybridge's endpoint are picked up within PooledConnectionLifetime).
        services.AddHttpClient(HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddHostedService<PaybridgeSenderService>();

        // XbyK object event handlers, registered in the app's service collection as
        // docs.kentico.com "Handle object events" requires (its sample does it in a module's
        // OnPreInit through parameters.Services; AddPaybridge runs on the same collection).
        services.AddInfoObjectEventHandler<InfoObjectAfterInsertEvent<OrderInfo>, OrderEventHandler>();
        services.AddInfoObjectEventHandler<InfoObjectAfterUpdateEvent<OrderInfo>, OrderEventHandler>();
        services.AddInfoObjectEventHandler<InfoObjectAfterInsertEvent<CustomerInfo>, CustomerEventHandler>();
        services.AddInfoObjectEventHandler<InfoObjectAfterUpdateEvent<CustomerInfo>, CustomerEventHandler>();
        return services;
    }

    /// <summary>
    /// Maps <c>GET /paybridge/health</c>, <c>GET /paybridge/orders/{orderGuid}</c>,
    /// <c>GET /paybridge/orders</c> and <c>POST /paybridge/orders/{orderGuid}/status</c>. They are
    /// anonymous for ASP.NET Core: every request must carry paybridge's <c>X-Paybridge-Signature</c>,
    /// which <see cref="PaybridgeEndpoints"/> checks before anything is read (against
    /// <c>Paybridge:ApiSecrets</c> when set, else <c>Paybridge:WebhookSecrets</c>).
    /// </summary>
    public static IEndpointConventionBuilder MapPaybridge(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/paybridge");
        group.AllowAnonymous();
        group.ExcludeFromDescription();
        // Resolving the settings here makes a configuration mistake fail the start, not the first request.
        endpoints.ServiceProvider.GetRequiredService<PaybridgeSettings>();

        group.MapGet("/health", (HttpContext context, PaybridgeEndpoints routes) =>
            RunAsync(context, request => routes.HealthAsync(request, context.RequestAborted)));

        group.MapGet("/orders/{orderGuid}", (HttpContext context, string orderGuid, PaybridgeEndpoints routes) =>
            RunAsync(context, request => routes.GetOrderAsync(request, orderGuid, context.RequestAborted)));

        group.MapGet("/orders", (HttpContext context, PaybridgeEndpoints routes) =>
            RunAsync(context, request => routes.ListOrdersAsync(request, context.RequestAborted)));

        group.MapPost("/orders/{orderGuid}/status", (HttpContext context, string orderGuid, PaybridgeEndpoints routes) =>
            RunAsync(context, request => routes.WriteStatusAsync(request, orderGuid, context.RequestAborted)));

        return group;
    }

    // Copies the raw request in and the answer out; all decisions are in PaybridgeEndpoints.
    private static async Task RunAsync(HttpContext context, Func<PaybridgeRequest, Task<PaybridgeAnswer>> route)
    {
        var request = new PaybridgeRequest
        {
            Method = context.Request.Method,
            PathAndQuery = RawTarget(context),
            SignatureHeader = context.Request.Headers[RequestSignature.HeaderName].ToString(),
            Body = await ReadBodyAsync(context.Request, WriteBackRequest.MaxBodyBytes + 1, context.RequestAborted),
        };
        var answer = await route(request);
        byte[] body = EventSigner.BodyBytes(answer.Body);
        context.Response.StatusCode = answer.StatusCode;
        context.Response.ContentType = PaybridgeAnswer.ContentType;
        context.Response.ContentLength = body.Length;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// The request target paybridge signed: the raw target as received on the wire (Kestrel's and
    /// IIS's keep the path's percent-encoding), with the app's PathBase in front when a proxy
    /// removed it (X-Forwarded-Prefix), else rebuilt from PathBase, Path and QueryString
    /// (<see cref="RouteParsing.RequestTarget"/>, tested in the core).
    /// </summary>
    private static string RawTarget(HttpContext context)
    {
        var r = context.Request;
        return RouteParsing.RequestTarget(context.Features.Get<IHttpRequestFeature>()?.RawTarget,
            r.PathBase.ToUriComponent(), r.Path.ToUriComponent(), r.QueryString.ToUriComponent());
    }

    /// <summary>Reads at most <paramref name="max"/> bytes: enough to tell an oversized body without buffering it all.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while (buffer.Length < max && (read = await request.Body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, max - buffer.Length)), cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
