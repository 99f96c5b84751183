"""A small program with the thread-safety bugs threadlint exists to catch."""

import threading
import time


class Downloader(threading.Thread):
    def __init__(self, url):
        super().__init__()
        self.url = url

    def run(self):
        time.sleep(0.01)
        print("fetched", self.url)


def download(url):
    time.sleep(0.01)
    return url


def main():
    # Twenty threads started in a loop and never joined.
    for n in range(20):
        Downloader(f"https://example.com/{n}").start()

    # A string instead of a one-element tuple: the target gets one argument per character.
    threading.Thread(target=download, args=("https://example.com")).start()

    # The target is called here, in this thread; the new thread gets its result.
    threading.Thread(target=download("https://example.com")).start()


if __name__ == "__main__":
    main()
