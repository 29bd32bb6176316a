// A small ASP.NET Core server (tests/profiler/run_timing.sh): binds
// 127.0.0.1 on a free port, prints "listening PORT", answers a few requests
// (text, JSON, a computation, an exception caught inside the request, a
// route parameter) and stops on /quit. No logging: stdout is only the port.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Server
{
    public sealed record Item(int Id, string Name, double Price);

    public static class Work
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Sum(int n)
        {
            long s = 0;
            for (int i = 1; i <= n; i++)
                s += Square(i);
            return s;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long Square(int i) => (long)i * i;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static string Guarded(int code)
        {
            try
            {
                return Fail(code);
            }
            catch (InvalidOperationException e)
            {
                return "caught " + e.Message;
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string Fail(int code) => throw new InvalidOperationException("code " + code);

        public static List<Item> Items(int n) =>
            Enumerable.Range(1, n).Select(i => new Item(i, "item" + i, i * 1.25)).ToList();
    }

    public static class Program
    {
        public static void Main(string[] args)
        {
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapGet("/", () => "hello");
            app.MapGet("/sum/{n:int}", (int n) => Work.Sum(n).ToString());
            app.MapGet("/guarded/{code:int}", (int code) => Work.Guarded(code));
            app.MapGet("/items/{n:int}", (int n) => Results.Json(Work.Items(n)));
            app.MapGet("/echo", (HttpRequest r) => "echo " + r.Query["q"]);
            app.MapGet("/quit", (IHostApplicationLifetime life) => { life.StopApplication(); return "bye"; });
            app.Start();
            var addresses = app.Services.GetService(typeof(IServer)) is IServer server
                ? server.Features.Get<IServerAddressesFeature>()?.Addresses : null;
            string url = addresses?.FirstOrDefault() ?? "";
            Console.WriteLine("listening " + url.Substring(url.LastIndexOf(':') + 1));
            Console.Out.Flush();
            app.WaitForShutdown();
        }
    }
}
