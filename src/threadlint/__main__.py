from threadlint.cli import main

main()
