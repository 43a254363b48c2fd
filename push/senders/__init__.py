"""One small sender per push channel, all behind `push.senders.base.Sender`."""
