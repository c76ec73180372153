from brummer.entry import main

main()
