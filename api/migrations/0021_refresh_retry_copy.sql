-- A refresh clears the retry copy its family's previous rotation left (the encrypted answer an immediate retry
-- of that token gets back). The clearing statement used to visit, and rewrite, every rotated row of the family:
-- a phone that refreshes every ten minutes for a month has thousands, so each refresh grew slower and wrote more.
-- Rows that still hold a copy are at most one or two a family; this index finds just those.
create index refresh_tokens_retry_copy_idx on refresh_tokens (family_id) where rotation_response_enc is not null;
