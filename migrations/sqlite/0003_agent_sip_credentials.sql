-- Softphone credentials of agents, as digest HA1 hashes only (never the password):
-- MD5(user:realm:password) and SHA-256(user:realm:password), hex, for the realm in sip_realm.
ALTER TABLE agents ADD COLUMN sip_realm TEXT;
ALTER TABLE agents ADD COLUMN sip_ha1_md5 TEXT;
ALTER TABLE agents ADD COLUMN sip_ha1_sha256 TEXT;
