from mutualaid import create_app

app = create_app()
