"""A small program with the thread-safety bugs threadlint exists to catch."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

fetched = 0


class Downloader(threading.Thread):
    def __init__(self, url):
        super().__init__()
        self.url = url

    def run(self):
        global fetched
        time.sleep(0.01)
        fetched += 1  # twenty threads update this at once: increments get lost
        print(f"page {fetched}: {self.url}")  # and two pages can get one number


def report_progress():
    while True:
        print("still fetching")
        time.sleep(1)


def download(url):
    time.sleep(0.01)
    return url


def checksum(block):
    total = 0
    for i in range(len(block)):
        total = (total * 31 + block[i] * i) % 1_000_003
    return total


def main():
    # Twenty threads started in a loop, all updating one counter.
    for n in range(20):
        Downloader(f"https://example.com/{n}").start()

    # A reporter that loops for ever and is not a daemon: the program never exits.
    threading.Thread(target=report_progress).start()

    # A string instead of a one-element tuple: the target gets one argument per character.
    threading.Thread(target=download, args=("https://example.com")).start()

    # The target is called here, in this thread; the new thread gets its result.
    threading.Thread(target=download("https://example.com")).start()

    # Pure-Python arithmetic in a thread pool: the GIL runs one at a time.
    blocks = [bytes(range(256)) * 64 for _ in range(8)]
    with ThreadPoolExecutor() as pool:
        print(list(pool.map(checksum, blocks)))


if __name__ == "__main__":
    main()
