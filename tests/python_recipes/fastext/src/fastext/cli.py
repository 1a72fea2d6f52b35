import platform

from fastext._speed import answer


def main():
    print(f"fast-answer: {answer()} on {platform.machine()}")
