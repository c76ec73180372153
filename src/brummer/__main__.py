from brummer.cli import main

main()
