using System.Text;
using GrpcPlugins.Host.Hooks.Endpoints;
using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Host.Tests;

/// <summary>The capture's holding, overflow and hand-over logic, over a plain stream (the real path: EndpointHookTests).</summary>
public sealed class ResponseCaptureTests
{
    [Fact]
    public async Task AResponseWithinTheLimit_IsHeldWhole_AndNothingReachesTheClient()
    {
        var client = new MemoryStream();
        var streamed = 0;
        var capture = new ResponseCapture(new StreamResponseBodyFeature(client), 16, _ => { streamed++; return Task.FromResult(true); });

        await capture.WriteAsync("0123456789"u8.ToArray());
        await capture.WriteAsync("abcdef"u8.ToArray());
        await capture.FlushAsync();

        Assert.Equal("0123456789abcdef", Encoding.ASCII.GetString(capture.Held.Span));
        Assert.False(capture.Streamed);
        Assert.Equal(0, streamed);
        Assert.Equal(0, client.Length);
    }

    [Fact]
    public async Task PastTheLimit_ThePointIsAskedOnce_AndTheHeldStartGoesOutBeforeTheRest()
    {
        var client = new MemoryStream();
        var streamed = 0;
        var capture = new ResponseCapture(new StreamResponseBodyFeature(client), 8, _ => { streamed++; return Task.FromResult(true); });

        await capture.WriteAsync("0123"u8.ToArray());
        await capture.WriteAsync("456789"u8.ToArray());
        await capture.WriteAsync("abc"u8.ToArray());

        Assert.True(capture.Streamed);
        Assert.Equal(1, streamed);
        Assert.Equal("0123456789abc", Encoding.ASCII.GetString(client.ToArray()));
    }

    [Fact]
    public async Task WhenThePointAnswersInstead_TheEndpointsBytesAreDropped()
    {
        var client = new MemoryStream();
        var capture = new ResponseCapture(new StreamResponseBodyFeature(client), 0, _ => Task.FromResult(false));

        await capture.WriteAsync("secret"u8.ToArray());
        await capture.WriteAsync("more"u8.ToArray());

        Assert.True(capture.Streamed);
        Assert.Equal(0, client.Length);
    }

    [Fact]
    public async Task WhatTheEndpointLeftUnflushedInThePipe_IsHeldOnceItFinishes()
    {
        var capture = new ResponseCapture(new StreamResponseBodyFeature(new MemoryStream()), 64, _ => Task.FromResult(true));
        var writer = ((IHttpResponseBodyFeature)capture).Writer;

        writer.Write("not flushed"u8);
        await capture.FinishAsync(CancellationToken.None);

        Assert.Equal("not flushed", Encoding.ASCII.GetString(capture.Held.Span));
    }
}
