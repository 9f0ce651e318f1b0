-- sqlite3 (in memory): 300,000 rows inserted, indexed, grouped and joined.
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
INSERT INTO t(k, v) SELECT printf('key-%07d', (i * 7919) % 300000), i % 1000 FROM n;
CREATE INDEX t_k ON t(k);
SELECT count(*), sum(v), min(k), max(k) FROM t;
SELECT v, count(*) FROM t GROUP BY v ORDER BY count(*) DESC, v LIMIT 3;
SELECT count(*) FROM t a JOIN t b ON a.k = b.k WHERE a.v < 10;
DELETE FROM t WHERE v % 3 = 0;
SELECT count(*), sum(v) FROM t;
