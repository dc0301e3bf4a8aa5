using System.Device.Gpio;

namespace Gateway.Tests.Gpio;

/// <summary>
/// A GPIO chip for tests: a subclass of System.Device.Gpio's <see cref="GpioDriver"/> behind a real
/// <see cref="GpioController"/>. Tests drive input levels; every level change raises the registered edge
/// callbacks as the kernel's edge events would, bounces included.
/// </summary>
public sealed class EmulatedGpioDriver : GpioDriver
{
    private readonly object _gate = new();
    private readonly Dictionary<int, PinValue> _levels = [];
    private readonly Dictionary<int, PinMode> _modes = [];
    private readonly HashSet<int> _driven = [];
    private readonly Dictionary<int, List<(PinEventTypes Types, PinChangeEventHandler Handler)>> _callbacks = [];

    public bool Disposed { get; private set; }

    public IReadOnlyDictionary<int, PinMode> Modes => _modes;

    protected override int PinCount => 54;

    /// <summary>Sets an input's level; an edge is raised when the level changes.</summary>
    public void SetInput(int pin, bool high)
    {
        List<(PinEventTypes Types, PinChangeEventHandler Handler)> callbacks;
        lock (_gate)
        {
            _driven.Add(pin);
            var old = _levels.GetValueOrDefault(pin, PinValue.Low);
            _levels[pin] = high ? PinValue.High : PinValue.Low;
            if ((old == PinValue.High) == high)
            {
                return;
            }

            callbacks = [.. _callbacks.GetValueOrDefault(pin) ?? []];
        }

        var type = high ? PinEventTypes.Rising : PinEventTypes.Falling;
        foreach (var (types, handler) in callbacks)
        {
            if ((types & type) != 0)
            {
                handler(this, new PinValueChangedEventArgs(type, pin));
            }
        }
    }

    public PinValue Level(int pin)
    {
        lock (_gate)
        {
            return _levels.GetValueOrDefault(pin, PinValue.Low);
        }
    }

    protected override void OpenPin(int pinNumber)
    {
        lock (_gate)
        {
            _levels.TryAdd(pinNumber, PinValue.Low);
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            _callbacks.Remove(pinNumber);
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_gate)
        {
            _modes[pinNumber] = mode;
            // An input nothing drives floats to its bias.
            if (!_driven.Contains(pinNumber) && mode is PinMode.InputPullUp or PinMode.InputPullDown)
            {
                _levels[pinNumber] = mode == PinMode.InputPullUp ? PinValue.High : PinValue.Low;
            }
        }
    }

    protected override PinMode GetPinMode(int pinNumber) => _modes.GetValueOrDefault(pinNumber, PinMode.Input);

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber) => Level(pinNumber);

    protected override void Toggle(int pinNumber) => Write(pinNumber, !Level(pinNumber));

    protected override void Write(int pinNumber, PinValue value)
    {
        lock (_gate)
        {
            _levels[pinNumber] = value;
        }
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the gateway uses edge callbacks");

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            if (!_callbacks.TryGetValue(pinNumber, out var list))
            {
                _callbacks[pinNumber] = list = [];
            }

            list.Add((eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            _callbacks.GetValueOrDefault(pinNumber)?.RemoveAll(c => c.Handler == callback);
        }
    }

    public bool HasCallback(int pin)
    {
        lock (_gate)
        {
            return _callbacks.GetValueOrDefault(pin)?.Count > 0;
        }
    }

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
