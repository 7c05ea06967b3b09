using Kontext.Broker.Hosting;

// No configuration reload: its watcher covers the content root and every directory below it, so with the data
// directory there (the default ./data) each write to the database files woke it. Given first, so an argument can still
// turn it on.
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
builder.AddKontext();
var app = builder.Build();
app.UseKontext();
app.Run();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
