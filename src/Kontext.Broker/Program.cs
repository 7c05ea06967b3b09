using Kontext.Broker.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddKontext();
var app = builder.Build();
app.UseKontext();
app.Run();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
