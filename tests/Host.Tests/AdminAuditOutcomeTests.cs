using GrpcPlugins.Host.Audit;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Tests;

/// <summary>The status and detail the audit trail records for what an admin endpoint returned, before it is written.</summary>
public sealed class AdminAuditOutcomeTests
{
    [Fact]
    public void AProblem_IsRecordedWithItsStatusTitleDetailAndFieldErrors()
    {
        var problem = Results.Problem(title: "Bad", detail: "Fix every field.", statusCode: 422, extensions: new Dictionary<string, object?> { ["errors"] = new[] { new { path = "$.limit", message = "too small" } } });

        var (status, detail) = AdminAuditFilter.Outcome(problem);

        Assert.Equal(422, status);
        Assert.Equal("""Bad: Fix every field. Errors: [{"path":"$.limit","message":"too small"}]""", detail);
    }

    [Fact]
    public void Successes_AreRecordedWithTheStatusTheyWillAnswer_AndNoDetailOfTheirOwn()
    {
        Assert.Equal((200, null), AdminAuditFilter.Outcome(Results.Ok(new { a = 1 })));
        Assert.Equal((202, null), AdminAuditFilter.Outcome(Results.Accepted(value: 1)));
        Assert.Equal((204, null), AdminAuditFilter.Outcome(Results.NoContent()));
        Assert.Equal((302, null), AdminAuditFilter.Outcome(Results.Redirect("/admin")));
        Assert.Equal((401, null), AdminAuditFilter.Outcome(Results.Content("no", "text/html", statusCode: 401)));
        Assert.Equal((200, null), AdminAuditFilter.Outcome("a plain value"));
    }
}
