# python3: dicts of strings built and dropped, lists of tuples, a bytearray
# grown 4 KiB at a time and a string joined from 200,000 pieces: the
# allocation patterns of a script that loads, indexes and reports.
import hashlib

digest = hashlib.sha256()
for rnd in range(3):
    table = {f"key-{rnd}-{i}": (i, str(i) * 3) for i in range(150000)}
    rows = sorted(table.items(), key=lambda kv: kv[1][0] % 977)[:1000]
    buf = bytearray()
    chunk = bytes(range(256)) * 16
    for i in range(20000):
        buf += chunk
    text = "".join(str(i) * 3 for i in range(200000))
    digest.update(repr(rows[:10]).encode())
    digest.update(bytes(buf[-64:]))
    digest.update(text[-64:].encode())
    del table, rows, buf, text
print(digest.hexdigest())
