using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Kontext.Broker.Tests.WebConsole;

/// <summary>
/// Debian's headless Chromium driven through Debian's chromedriver (packages chromium and chromium-driver). No browser is
/// downloaded: without both binaries the browser tests report skipped with <see cref="MissingReason"/>.
/// </summary>
public sealed class ConsoleBrowser : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    public static string? MissingReason =>
        File.Exists(Chromium) && File.Exists(ChromeDriver) ? null
            : $"needs Debian's chromium and chromium-driver ({Chromium}, {ChromeDriver}): apt-get install -y chromium chromium-driver";

    private readonly string _profile = Path.Combine(Path.GetTempPath(), "kontext-tests", "chromium-" + Guid.NewGuid().ToString("N"));

    public ConsoleBrowser(string baseUrl)
    {
        BaseUrl = baseUrl;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        // The flags that keep Chromium off the network of a closed machine (and quiet), plus a throw-away profile.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--window-size=1280,900", "--lang=en-US", $"--user-data-dir={_profile}");
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().ImplicitWait = TimeSpan.Zero;
    }

    public ChromeDriver Driver { get; }
    public string BaseUrl { get; }

    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "console-screenshots");

    public void Open(string hash) => Driver.Navigate().GoToUrl($"{BaseUrl}/console/{hash}");

    /// <summary>Polls until the condition holds (the page works asynchronously); fails with what was last seen.</summary>
    public T Until<T>(Func<IWebDriver, T?> condition, string what, int seconds = 20, int pollMs = 100)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var value = condition(Driver);
                if (value is not null && !(value is bool b && !b)) return value;
            }
            catch (WebDriverException ex) { last = ex; }
            Thread.Sleep(pollMs);
        }
        Screenshot("timeout-" + string.Concat(what.Where(char.IsLetterOrDigit)));
        throw new TimeoutException($"Timed out waiting for {what}; page text: {Driver.FindElement(By.TagName("body")).Text}", last);
    }

    public IWebElement Element(string css) => Until(d => d.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed), css);

    public void Fill(string css, string text)
    {
        var input = Element(css);
        input.Clear();
        input.SendKeys(text);
    }

    /// <summary>Picks an option of a select by its value, with a click as a user would.</summary>
    public void Choose(string selectCss, string value)
    {
        Element(selectCss);
        Driver.FindElement(By.CssSelector($"{selectCss} option[value='{value}']")).Click();
    }

    /// <summary>Sets a form control's value as a user would have (date pickers are locale-dependent to type into).</summary>
    public void SetValue(string css, string value) =>
        Driver.ExecuteScript("const e = document.querySelector(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('change', {bubbles: true}));", css, value);

    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try { Directory.Delete(_profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A fact that needs Chromium: skipped, with the apt line, where Debian's chromium and chromedriver are absent.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (ConsoleBrowser.MissingReason is { } reason) Skip = reason;
    }
}
