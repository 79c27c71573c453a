using GrpcPlugins.Sdk.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrpcPlugins.Sdk.Tests;

public sealed class KestrelWarmUpTests
{
    // The warm-up names a Kestrel internal: an upgrade that renames it would silently put ~11 ms
    // back on every JIT worker's first call, so the lookup is pinned here.
    [Fact]
    public void TheWarmUp_FindsAndCompilesKestrelsRequestHeaderParser()
    {
        Assert.True(KestrelWarmUp.Compile(NullLogger.Instance));
    }
}
