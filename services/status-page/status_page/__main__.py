from status_page.main import main

main()
