"""The file store of checkpoints does its file I/O off the event loop
(chat.dbpool's rule)."""

from __future__ import annotations

import threading

from chat.replies import checkpoints


def checkpoint(message_id, content):
    return {"owner": "dead", "message_id": message_id, "seq": 1, "content": content}


async def test_file_store_reads_and_deletes_in_a_thread(tmp_path, monkeypatch):
    await checkpoints.FileStore(tmp_path, "dead").write(
        [checkpoint(7, "kept"), checkpoint(8, "other")]
    )
    store = checkpoints.FileStore(tmp_path, "me")
    threads = []
    read_files = checkpoints.FileStore._files

    def spy(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return read_files(self, *args, **kwargs)

    monkeypatch.setattr(checkpoints.FileStore, "_files", spy)

    assert (await store.load(7))["content"] == "kept"
    await store.delete(7)
    assert await store.load(7) is None
    assert (await store.load(8))["content"] == "other"
    assert len(threads) == 4
    assert threading.main_thread() not in threads
