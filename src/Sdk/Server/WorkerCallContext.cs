using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Sdk.Server;

/// <summary>One call's gRPC context over one HTTP/2 stream's features.</summary>
internal sealed class WorkerCallContext(
    string method,
    IFeatureCollection features,
    DateTime deadline,
    CancellationToken cancellationToken) : ServerCallContext
{
    private static readonly AuthContext s_noAuth = new(null, []);
    private readonly IHttpRequestFeature _request = StreamFeatures.Required<IHttpRequestFeature>(features);
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;

    public IHttpResponseBodyFeature Body { get; } = StreamFeatures.Required<IHttpResponseBodyFeature>(features);

    /// <summary>Whether any trailer was added by the handler (most calls add none).</summary>
    public bool HasResponseTrailers => _responseTrailers is { Count: > 0 };

    protected override string MethodCore => method;

    protected override string HostCore => _request.Headers.Host.ToString();

    protected override string PeerCore => "unix:" + (StreamFeatures.Find<IHttpConnectionFeature>(features)?.ConnectionId ?? "?");

    protected override DateTime DeadlineCore => deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders ??= ToMetadata(_request.Headers);

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore => _responseTrailers ??= [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => s_noAuth;

    /// <summary>Sends what the call has written so far (writes with a buffer hint wait for this).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken) => await Body.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Runs <paramref name="callback"/> once the call's response has been sent.</summary>
    public void OnCompleted(Func<Task> callback) =>
        StreamFeatures.Required<IHttpResponseFeature>(features).OnCompleted(static state => ((Func<Task>)state)(), callback);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("a plugin worker does not propagate calls");

    protected override async Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        var headers = StreamFeatures.Required<IHttpResponseFeature>(features).Headers;
        foreach (var entry in responseHeaders)
        {
            headers.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }

        await Body.StartAsync(cancellationToken).ConfigureAwait(false);
        await Body.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Metadata ToMetadata(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (name.StartsWith(':') || IsTransportHeader(name))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (name.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase))
                {
                    metadata.Add(name, FromBase64(value ?? string.Empty));
                }
                else
                {
                    metadata.Add(name, value ?? string.Empty);
                }
            }
        }

        return metadata;
    }

    /// <summary>gRPC allows binary headers without base64 padding.</summary>
    private static byte[] FromBase64(string value) =>
        Convert.FromBase64String(value.Length % 4 == 0 ? value : value.PadRight(value.Length + 4 - (value.Length % 4), '='));

    private static bool IsTransportHeader(string name) =>
        name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals(GrpcTimeout.HeaderName, StringComparison.OrdinalIgnoreCase)
        || name.Equals("grpc-encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("grpc-accept-encoding", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What a service needs of its call beyond gRPC's abstractions.</summary>
internal static class ServerCallContextExtensions
{
    public static WorkerCallContext Worker(this ServerCallContext context) =>
        context as WorkerCallContext ?? throw new InvalidOperationException("this service runs only on the Sdk's worker server");
}
