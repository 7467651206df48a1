-- A cancel that reached a replica not holding the job (scale-out): when it was asked for. The holder
-- acts on it at its next heartbeat (a replica that takes the job over, when it takes it); ``save`` never
-- writes this column, so the holder's own writes cannot wipe a request out.
ALTER TABLE jobs ADD COLUMN cancel_requested_at REAL;
