-- A user's refresh tokens are revoked together (a password change may end them all).
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
