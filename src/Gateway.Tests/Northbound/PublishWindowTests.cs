using Gateway.Buffering;
using Gateway.Northbound;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using MQTTnet;

namespace Gateway.Tests.Northbound;

public sealed class PublishWindowTests
{
    private sealed class Recorder : IDeliveryReceiver
    {
        public List<(DeliveryLane Lane, SequenceRange? Completes, int Samples)> Deliveries { get; } = [];

        public void Delivered(DeliveryLane lane, SequenceRange? completes, int samples) => Deliveries.Add((lane, completes, samples));
    }

    private static MqttClientPublishResult Ack(MqttClientPublishReasonCode code = MqttClientPublishReasonCode.Success) => new(1, code, null, []);

    private static TaskCompletionSource<MqttClientPublishResult> Publication() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static SequenceRange One(long sequence) => new(sequence, sequence);

    [Fact]
    public void TakeDelivered_StopsAtTheFirstPublicationInFlight_EvenWhenLaterOnesAreAcknowledged()
    {
        var window = new PublishWindow(8);
        var publications = Enumerable.Range(0, 3).Select(_ => Publication()).ToList();
        for (var i = 0; i < 3; i++)
        {
            window.Add(publications[i].Task, "t", DeliveryLane.Live, One(i + 1), 1);
        }

        publications[0].SetResult(Ack());
        publications[2].SetResult(Ack());
        var recorder = new Recorder();

        Assert.Equal(1, window.TakeDelivered(recorder));
        Assert.Equal([(DeliveryLane.Live, One(1), 1)], recorder.Deliveries);
        Assert.Equal(2, window.Count);

        publications[1].SetResult(Ack());
        Assert.Equal(2, window.TakeDelivered(recorder));
        Assert.Equal([One(1), One(2), One(3)], recorder.Deliveries.Select(d => d.Completes!.Value));
        Assert.Equal(0, window.Count);
    }

    [Fact]
    public void TakeDelivered_ReportsLanesAndRangesInSendingOrder()
    {
        var window = new PublishWindow(8);
        var live = Publication();
        var history = Publication();
        window.Add(live.Task, "live", DeliveryLane.Live, One(101), 1);
        window.Add(history.Task, "history", DeliveryLane.History, new SequenceRange(1, 50), 50);
        history.SetResult(Ack());
        live.SetResult(Ack());
        var recorder = new Recorder();

        window.TakeDelivered(recorder);

        Assert.Equal([(DeliveryLane.Live, One(101), 1), (DeliveryLane.History, new SequenceRange(1, 50), 50)], recorder.Deliveries);
    }

    [Fact]
    public void TakeDelivered_WhenTheBrokerRefuses_EndsThePrefixAtTheRefusal()
    {
        var window = new PublishWindow(8);
        var first = Publication();
        var refused = Publication();
        var after = Publication();
        window.Add(first.Task, "ok", DeliveryLane.Live, One(1), 1);
        window.Add(refused.Task, "denied/topic", DeliveryLane.Live, One(2), 1);
        window.Add(after.Task, "ok", DeliveryLane.Live, One(3), 1);
        first.SetResult(Ack());
        refused.SetResult(Ack(MqttClientPublishReasonCode.NotAuthorized));
        after.SetResult(Ack());
        var recorder = new Recorder();

        var refusal = Assert.Throws<PublishRefusedException>(() => window.TakeDelivered(recorder));

        Assert.Equal("denied/topic", refusal.Topic);
        Assert.Equal([One(1)], recorder.Deliveries.Select(d => d.Completes!.Value));
        Assert.Equal(2, window.Count);
    }

    [Fact]
    public void TakeDelivered_WhenAPublicationFailed_ThrowsItsFailureAndKeepsIt()
    {
        var window = new PublishWindow(4);
        var failed = Publication();
        window.Add(failed.Task, "t", DeliveryLane.History, new SequenceRange(1, 10), 10);
        failed.SetException(new IOException("connection reset"));

        Assert.Throws<IOException>(() => window.TakeDelivered(new Recorder()));
        Assert.Equal(1, window.Count);
        Assert.Equal(10, window.SamplesInFlight);
    }

    [Fact]
    public void Add_BeyondCapacity_IsRefused_AndFreeCountsDown()
    {
        var window = new PublishWindow(2);
        window.Add(Publication().Task, "t", DeliveryLane.Live, One(1), 1);
        Assert.Equal(1, window.Free);
        window.Add(Publication().Task, "t", DeliveryLane.Live, One(2), 1);

        Assert.Equal(0, window.Free);
        Assert.Throws<InvalidOperationException>(() => window.Add(Publication().Task, "t", DeliveryLane.Live, One(3), 1));
    }

    [Fact]
    public void Abandon_ForgetsWhatIsInFlight_AndReturnsItsSampleCount()
    {
        var window = new PublishWindow(4);
        window.Add(Publication().Task, "t", DeliveryLane.Live, One(1), 1);
        window.Add(Publication().Task, "t", DeliveryLane.History, new SequenceRange(2, 21), 20);

        Assert.Equal(21, window.Abandon());
        Assert.Equal(0, window.Count);
        Assert.Equal(0, window.TakeDelivered(new Recorder()));
    }

    [Fact]
    public void Resize_WhileEmpty_WrapsTheRingAtTheNewCapacity()
    {
        var window = new PublishWindow(2);
        window.Resize(3);
        var recorder = new Recorder();
        for (var round = 0; round < 4; round++)
        {
            var publications = Enumerable.Range(0, 3).Select(_ => Publication()).ToList();
            for (var i = 0; i < 3; i++)
            {
                window.Add(publications[i].Task, "t", DeliveryLane.Live, One((round * 3) + i + 1), 1);
                publications[i].SetResult(Ack());
            }

            window.TakeDelivered(recorder);
        }

        Assert.Equal(Enumerable.Range(1, 12).Select(i => One(i)), recorder.Deliveries.Select(d => d.Completes!.Value));
    }

    [Fact]
    public void OwnPublications_AreDeliveredAsTheirPubAcksArrive_InSendingOrder()
    {
        var window = new PublishWindow(8);
        var acknowledgements = new PublishAcknowledgements();
        var ids = Enumerable.Range(0, 3).Select(_ => acknowledgements.Allocate()).ToArray();
        for (var i = 0; i < 3; i++)
        {
            window.AddOwn(acknowledgements, ids[i], "t", DeliveryLane.Live, One(i + 1), 1);
        }

        var recorder = new Recorder();
        Assert.True(acknowledgements.TryAcknowledge(ids[1], 0));
        Assert.Equal(0, window.TakeDelivered(recorder)); // the first still awaits its PUBACK

        Assert.True(acknowledgements.TryAcknowledge(ids[0], 0x10)); // No matching subscribers: delivered
        Assert.Equal(2, window.TakeDelivered(recorder));
        Assert.Equal([One(1), One(2)], recorder.Deliveries.Select(d => d.Completes!.Value));
        Assert.Equal(1, window.SamplesInFlight);
    }

    [Fact]
    public void AnOwnPublicationRefused_EndsThePrefix_WithTheBrokersReasonCode_AndStaysRefused()
    {
        var window = new PublishWindow(8);
        var acknowledgements = new PublishAcknowledgements();
        var first = acknowledgements.Allocate();
        var second = acknowledgements.Allocate();
        window.AddOwn(acknowledgements, first, "ok", DeliveryLane.Live, One(1), 1);
        window.AddOwn(acknowledgements, second, "denied", DeliveryLane.Live, One(2), 1);
        acknowledgements.TryAcknowledge(first, 0);
        acknowledgements.TryAcknowledge(second, 0x87, "topic not allowed");
        var recorder = new Recorder();

        var refused = Assert.Throws<PublishRefusedException>(() => window.TakeDelivered(recorder, "plant"));

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, refused.Code);
        Assert.Contains("\"topic not allowed\"", refused.Message, StringComparison.Ordinal);
        Assert.Equal("denied", refused.Topic);
        Assert.Equal([One(1)], recorder.Deliveries.Select(d => d.Completes!.Value));
        Assert.Throws<PublishRefusedException>(() => window.TakeDelivered(recorder));
        Assert.Equal(1, window.Abandon());
    }

    [Fact]
    public void OwnQos0Publications_AreDeliveredOnceWritten()
    {
        var window = new PublishWindow(8);
        window.AddOwn(new PublishAcknowledgements(), 0, "t", DeliveryLane.History, new SequenceRange(1, 10), 10);

        var recorder = new Recorder();
        Assert.Equal(1, window.TakeDelivered(recorder));
        Assert.Null(window.Oldest);
    }

    [Fact]
    public void APubAckThatCameTwice_OrForAnIdentifierNotInFlight_IsNotOurs()
    {
        var acknowledgements = new PublishAcknowledgements();
        var id = acknowledgements.Allocate();

        Assert.True(acknowledgements.TryAcknowledge(id, 0));
        Assert.False(acknowledgements.TryAcknowledge(id, 0));
        Assert.False(acknowledgements.TryAcknowledge(id + 1, 0));
        Assert.False(acknowledgements.TryAcknowledge(1, 0)); // MQTTnet's range
    }
}
