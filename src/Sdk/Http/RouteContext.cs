namespace GrpcPlugins.Sdk;

/// <summary>One call of one of the plugin's routes.</summary>
public sealed class RouteContext
{
    internal RouteContext(RouteRequest request, RouteResponse response, IPluginHost host, CancellationToken aborted)
    {
        Request = request;
        Response = response;
        Host = host;
        Aborted = aborted;
    }

    /// <summary>The request.</summary>
    public RouteRequest Request { get; }

    /// <summary>The response.</summary>
    public RouteResponse Response { get; }

    /// <summary>The host's services for this plugin (settings).</summary>
    public IPluginHost Host { get; }

    /// <summary>Fires when the client went away or the host's deadline passed.</summary>
    public CancellationToken Aborted { get; }
}
