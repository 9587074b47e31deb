"""``python -m train --config train/configs/NAME.yaml [key=value ...]``"""
import sys

from .config import load_config
from .trainer import train


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    train(load_config(argv), argv)


if __name__ == "__main__":
    main()
