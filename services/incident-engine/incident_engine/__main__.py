from incident_engine.main import main

main()
