using System.Globalization;
using Grpc.Core;
using GrpcPlugins.Sdk.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrpcPlugins.Sdk.Tests;

/// <summary>The dispatcher over an in-memory stream; the functional tests drive it over real HTTP/2.</summary>
public sealed class GrpcDispatcherTests
{
    private const string Token = "token";

    [Fact]
    public async Task ProcessRequest_BeforeItsMethodsAreServed_AnswersUnavailable()
    {
        var dispatcher = new GrpcDispatcher(Token, 1024, TimeProvider.System, NullLogger.Instance);
        var trailers = new TrailersFeature();

        await dispatcher.ProcessRequestAsync(HealthCheck(trailers));

        Assert.Equal(((int)StatusCode.Unavailable).ToString(CultureInfo.InvariantCulture), trailers.Trailers["grpc-status"].ToString());
        Assert.Contains("starting", trailers.Trailers["grpc-message"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessRequest_OnceServed_LooksTheMethodUp()
    {
        var dispatcher = new GrpcDispatcher(Token, 1024, TimeProvider.System, NullLogger.Instance);
        dispatcher.Serve(new ServerMethodTable());
        var trailers = new TrailersFeature();

        await dispatcher.ProcessRequestAsync(HealthCheck(trailers));

        Assert.Equal(((int)StatusCode.Unimplemented).ToString(CultureInfo.InvariantCulture), trailers.Trailers["grpc-status"].ToString());
    }

    [Theory]
    [InlineData(false, LogLevel.Error)]
    [InlineData(true, LogLevel.Warning)]
    public async Task AHandlerThatFails_IsAnError_ButAWarningWhileTheWorkerStops(bool stopping, LogLevel expected)
    {
        using var stop = new CancellationTokenSource();
        var logged = new LevelLogger();
        var dispatcher = new GrpcDispatcher(Token, 1024, TimeProvider.System, logged, stop.Token);
        var methods = new ServerMethodTable();
        Grpc.Health.V1.Health.BindTo(methods, new FailingHealth());
        dispatcher.Serve(methods);
        if (stopping)
        {
            await stop.CancelAsync();
        }

        var trailers = new TrailersFeature();
        await dispatcher.ProcessRequestAsync(HealthCheck(trailers));

        Assert.Equal(((int)StatusCode.Unknown).ToString(CultureInfo.InvariantCulture), trailers.Trailers["grpc-status"].ToString());
        Assert.Equal([expected], logged.Levels);
    }

    private sealed class FailingHealth : Grpc.Health.V1.Health.HealthBase
    {
        public override Task<Grpc.Health.V1.HealthCheckResponse> Check(Grpc.Health.V1.HealthCheckRequest request, ServerCallContext context) =>
            throw new IndexOutOfRangeException("as a response torn down under its writer");
    }

    private sealed class LevelLogger : ILogger
    {
        public List<LogLevel> Levels { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Levels.Add(logLevel);
            }
        }
    }

    private static IFeatureCollection HealthCheck(TrailersFeature trailers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/grpc.health.v1.Health/Check";
        context.Request.ContentType = "application/grpc";
        context.Request.Headers["plugin-token"] = Token;
        context.Request.Body = new MemoryStream([0, 0, 0, 0, 0]);
        context.Response.Body = new MemoryStream();
        context.Features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature());
        context.Features.Set<IHttpResponseTrailersFeature>(trailers);
        return context.Features;
    }

    private sealed class TrailersFeature : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }
}
