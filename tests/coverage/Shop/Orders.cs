using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Shop;

public sealed class OrderLine
{
    public OrderLine(string sku, Category category, int quantity, Money total)
    {
        Sku = sku;
        Category = category;
        Quantity = quantity;
        Total = total;
    }

    public string Sku { get; }

    public Category Category { get; }

    public int Quantity { get; }

    public Money Total { get; }
}

public sealed class Order
{
    private Order(int id, string customer, bool paid, string status, Money total, IReadOnlyList<OrderLine> lines)
    {
        Id = id;
        Customer = customer;
        Paid = paid;
        Status = status;
        Total = total;
        Lines = lines;
    }

    public int Id { get; }

    public string Customer { get; }

    public bool Paid { get; }

    public string Status { get; }

    public Money Total { get; }

    public IReadOnlyList<OrderLine> Lines { get; }

    public static Order Accepted(int id, string customer, Money total, IReadOnlyList<OrderLine> lines) =>
        new Order(id, customer, true, "paid", total, lines);

    public static Order Rejected(int id, string customer, string why, string currency) =>
        new Order(id, customer, false, why, Money.Zero(currency), Array.Empty<OrderLine>());
}

public interface IPaymentGateway
{
    Task<bool> ChargeAsync(string customer, Money amount, CancellationToken cancel);
}

public sealed class OrderService
{
    private readonly Inventory inventory;
    private readonly IPaymentGateway gateway;
    private int nextId = 1;

    public OrderService(Inventory inventory, IPaymentGateway gateway)
    {
        this.inventory = inventory;
        this.gateway = gateway;
    }

    public async Task<Order> PlaceAsync(string customer, Cart cart, CancellationToken cancel = default)
    {
        if (cart.IsEmpty)
        {
            throw new InvalidOperationException("empty cart");
        }
        int id = nextId++;
        var items = cart.Lines.Select(l => (l.Product.Sku, l.Quantity)).ToList();
        if (!inventory.TryReserveAll(items))
        {
            return Order.Rejected(id, customer, "out of stock", cart.Currency);
        }
        Money total = cart.Total();
        bool paid;
        try
        {
            await Task.Yield();
            paid = await gateway.ChargeAsync(customer, total, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Release(items);
            throw;
        }
        catch (Exception e) when (e is TimeoutException || e is InvalidOperationException)
        {
            Release(items);
            return Order.Rejected(id, customer, "payment error: " + e.Message, cart.Currency);
        }
        if (!paid)
        {
            Release(items);
            return Order.Rejected(id, customer, "declined", cart.Currency);
        }
        var lines = cart.Lines
            .Select(l => new OrderLine(l.Product.Sku, l.Product.Category, l.Quantity, l.Net))
            .ToList();
        return Order.Accepted(id, customer, total, lines);
    }

    public async Task<IReadOnlyList<Order>> PlaceManyAsync(IEnumerable<(string Customer, Cart Cart)> orders)
    {
        var results = new List<Order>();
        foreach ((string customer, Cart cart) in orders)
        {
            results.Add(await PlaceAsync(customer, cart));
        }
        return results;
    }

    private void Release(List<(string Sku, int Quantity)> items)
    {
        foreach ((string sku, int quantity) in items)
        {
            inventory.Release(sku, quantity);
        }
    }

    public static async IAsyncEnumerable<Order> StreamAsync(
        IEnumerable<Order> orders, [EnumeratorCancellation] CancellationToken cancel = default)
    {
        foreach (Order o in orders)
        {
            cancel.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return o;
        }
    }

    public static async ValueTask<int> CountPaidAsync(IAsyncEnumerable<Order> orders)
    {
        int n = 0;
        await foreach (Order o in orders)
        {
            if (o.Paid)
            {
                n++;
            }
        }
        return n;
    }

    // Never called by the tests: an async method left uncovered.
    public async Task<int> RetryFailedAsync(IEnumerable<(string Customer, Cart Cart)> orders, int attempts)
    {
        int placed = 0;
        foreach ((string customer, Cart cart) in orders)
        {
            for (int i = 0; i < attempts; i++)
            {
                Order o = await PlaceAsync(customer, cart);
                if (o.Paid)
                {
                    placed++;
                    break;
                }
            }
        }
        return placed;
    }
}
