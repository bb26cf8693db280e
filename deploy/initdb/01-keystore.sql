-- The key store's own database, beside the data's: never inside a dump of the data.
CREATE DATABASE sottovoce_keys OWNER sottovoce;
