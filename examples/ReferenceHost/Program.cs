using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.ReferenceHost;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddPluginHost(options =>
{
    foreach (var point in ReferenceHooks.All)
    {
        options.HookPoints.Add(point);
    }
});

var app = builder.Build();
app.MapPluginEndpoints();
app.MapPost("/demo/echo", DemoEcho.HandleAsync).WithPluginHooks(DemoEcho.Hooks);
app.MapGet("/", () => Results.Text("GrpcPlugins reference host. Try GET /plugins/hello/ping, POST /demo/echo, GET /admin/api/plugins (with the admin key).\n"));
app.Run();
