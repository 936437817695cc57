from probe.main import main

main()
