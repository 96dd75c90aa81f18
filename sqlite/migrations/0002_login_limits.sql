-- The bcrypt cost of each stored hash ($2a$12$... -> '12'), indexed so the
-- highest is one index lookup: a failed login is padded to what the dearest
-- stored hash costs, whoever stored it.
CREATE INDEX users_bcrypt_cost ON users (substr(password_hash, 5, 2))
	WHERE substr(password_hash, 1, 2) = '$2';
