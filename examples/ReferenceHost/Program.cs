using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.ReferenceHost;
using OpenTelemetry.Resources;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddPluginHost(options =>
{
    foreach (var point in ReferenceHooks.All)
    {
        options.HookPoints.Add(point);
    }

    // The demo's tenant is the caller's X-Tenant header, for plugin routes as for /demo/echo.
    options.RouteTenant = context => context.Request.Headers["X-Tenant"].ToString();
});

// The host's /metrics carry the embedding application's name; without it they read
// "unknown_service:dotnet". An application names itself this way or with OTEL_SERVICE_NAME.
builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("grpc-plugins-reference-host"));

var app = builder.Build();
try
{
    // Plugins' WebSocket routes (hello's /greet) need the framework's WebSockets middleware.
    app.UseWebSockets();
    // Mapping resolves the host's services: a state directory another host holds, or options it
    // refuses, fail here; a port in use fails in Run.
    app.MapPluginEndpoints();
    app.MapPost("/demo/echo", DemoEcho.HandleAsync).WithPluginHooks(DemoEcho.Hooks);
    app.MapGet("/", () => Results.Text("GrpcPlugins reference host. Try GET /plugins/hello/ping, POST /demo/echo, GET /admin/api/plugins (with the admin key).\n"));
    // A closed terminal (SIGHUP) stops the host as Ctrl+C does: its workers get their
    // shutdown, and its runtime directory goes. .NET's default for it ends the process at once.
    using var hangup = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, signal =>
    {
        signal.Cancel = true;
        app.Lifetime.StopApplication();
    });
    app.Run();
    return 0;
}
catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException or IOException)
{
    // What the host refuses to start with ends it with its reason and exit code 1, not as a
    // crash (an unhandled exception is SIGABRT, exit code 134).
    await Console.Error.WriteLineAsync($"The reference host did not start: {ex.Message}");
    return 1;
}
