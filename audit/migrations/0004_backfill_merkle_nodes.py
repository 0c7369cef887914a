"""Back-fill the Merkle log's subtrees for the events recorded before it existed."""

from itertools import islice

from django.db import migrations

from audit import merkle
from audit.chain import CHAINED_FIELDS
from audit.tree import content_of, leaf_of


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    MerkleNode = apps.get_model("audit", "MerkleNode")
    if MerkleNode.objects.exists():
        return
    rows = AuditEvent.objects.order_by("seq").values(*CHAINED_FIELDS).iterator(chunk_size=5000)
    leaves = (leaf_of(content_of(row)) for row in rows)
    frontier, size = {}, 0
    while batch := list(islice(leaves, 5000)):
        nodes = list(merkle.append_nodes(size, frontier, batch))
        MerkleNode.objects.bulk_create(
            [MerkleNode(level=level, index=index, hash=digest) for level, index, digest in nodes]
        )
        size += len(batch)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_merkle_log")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
